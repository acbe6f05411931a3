// The API reference: Swagger UI (swagger-ui-dist, served by K2) over the spec at /docs/json.
// "Try it out" sends the API key the live page stored, so a keyed K2 can be tried from here too.
/* global SwaggerUIBundle */
const KEY_ITEM = "k2.apiKey";
window.ui = SwaggerUIBundle({
  url: "/docs/json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // null: never send the spec to the public validator (the default is an outside service).
  validatorUrl: null,
  requestInterceptor: (req) => {
    const key = localStorage.getItem(KEY_ITEM);
    if (key) req.headers["X-API-Key"] = key;
    return req;
  },
});
