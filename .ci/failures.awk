# Each failing test's error, compactly, for the end of the CI log: CI reports show only the log's
# tail, where bun's own account of a failure (printed before its "(fail)" line) is long gone.
# Prints, for the first MAX failures, the non-empty lines from the test's last "error:" line on
# (at most LINES, each cut to WIDTH characters), then the "(fail)" line. Bun's closing recap
# ("N tests failed:" and the "(fail)" lines again) is not a failure of its own.
BEGIN { MAX = 3; LINES = 10; WIDTH = 200 }
/^[0-9]+ tests? failed:$/ { recap = 1; next }
recap && /^\(fail\)/ { next }
{ recap = 0 }
/^\((pass|skip|todo)\)/ { n = 0; next }
/^\(fail\)/ {
  failed++
  if (failed <= MAX) {
    from = 0
    for (i = 0; i < n; i++) if (buf[i] ~ /^error:/) from = i
    shown = 0
    for (i = from; i < n && shown < LINES; i++)
      if (buf[i] != "") { print substr(buf[i], 1, WIDTH); shown++ }
    print substr($0, 1, WIDTH)
  }
  n = 0
  next
}
# A test's output between two results; bounded so a chatty test cannot grow it without limit.
{ if (n < 400) buf[n++] = $0 }
END { if (failed > MAX) print "(" failed - MAX " more failed: see the log above)" }
