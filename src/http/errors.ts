/**
 * One error mapper: every thrown error becomes JSON `{error: {code, message, request_id}}` with the
 * right status. Clients never see a stack trace; unexpected errors are logged with theirs.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; request_id: string; field?: string };
}

/** Elysia's built-in error codes and the status each maps to. */
const ELYSIA_CODES: Record<string, { status: number; code: string }> = {
  NOT_FOUND: { status: 404, code: "not_found" },
  VALIDATION: { status: 400, code: "invalid_parameter" },
  PARSE: { status: 400, code: "invalid_body" },
  INVALID_COOKIE_SIGNATURE: { status: 400, code: "invalid_cookie" },
  INVALID_FILE_TYPE: { status: 415, code: "unsupported_media_type" },
};

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** True when the error was not one we expected: log it with its stack. */
  unexpected: boolean;
}

/**
 * `allow`: the methods the path is served for when the router found no route for this method
 * (see methods.ts); a NOT_FOUND with such methods is a 405.
 */
export function mapError(
  code: string | number,
  error: unknown,
  requestId: string,
  path: string,
  allow?: { method: string; methods: readonly string[] },
): MappedError {
  // Elysia wraps errors thrown by a parse hook (e.g. a body cap) in ParseError: keep the typed one.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (!(error instanceof HttpError) && cause instanceof HttpError) error = cause;
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, request_id: requestId } };
    if (error.field) body.error.field = error.field;
    return { status: error.status, body, unexpected: false };
  }
  if (code === "NOT_FOUND" && allow && allow.methods.length > 0) {
    const ms = allow.methods;
    const list = ms.length > 1 ? `${ms.slice(0, -1).join(", ")} or ${ms.at(-1)}` : ms[0];
    const message = `${allow.method} is not allowed on ${path}; use ${list}`;
    return {
      status: 405,
      body: { error: { code: "method_not_allowed", message, request_id: requestId } },
      unexpected: false,
    };
  }
  const known = typeof code === "string" ? ELYSIA_CODES[code] : undefined;
  if (known) {
    const message =
      known.status === 404
        ? `no route for ${path}`
        : code === "VALIDATION"
          ? validationMessage(error)
          : "the request body could not be parsed";
    const body: ErrorBody = { error: { code: known.code, message, request_id: requestId } };
    const field = code === "VALIDATION" ? validationField(error) : undefined;
    if (field) body.error.field = field;
    return { status: known.status, body, unexpected: false };
  }
  return {
    status: 500,
    body: {
      error: {
        code: "internal",
        message: "internal error; see server logs for this request_id",
        request_id: requestId,
      },
    },
    unexpected: true,
  };
}

function validationMessage(error: unknown): string {
  // Elysia's ValidationError carries a JSON message with the failing property and expectation.
  const raw = (error as { message?: string }).message ?? "";
  try {
    const j = JSON.parse(raw) as { property?: string; message?: string; summary?: string };
    return `${(j.property ?? "parameter").replace(/^\//, "")}: ${j.summary ?? j.message ?? "invalid"}`;
  } catch {
    return "invalid parameter";
  }
}

/** The failing field as a plain name ("/symbol" → "symbol"), so clients can point at it. */
function validationField(error: unknown): string | undefined {
  const path = (error as { valueError?: { path?: string } }).valueError?.path ?? "";
  const name = path.replace(/^\//, "").replace(/\//g, ".");
  return name === "" ? undefined : name;
}
