// Starts Swagger UI on /docs from the vendored bundle (no inline script: the CSP forbids it).
// "Try it out" runs with the browser's session; unsafe methods carry the CSRF token.

(function startApiDocs() {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  const tokenMeta = document.querySelector('meta[name="csrf-token"]');
  const safeMethods = ["GET", "HEAD", "OPTIONS"];
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl || "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The public validator is on the internet; operations centres are not.
    validatorUrl: null,
    tryItOutEnabled: false,
    requestInterceptor: (request) => {
      const token = tokenMeta ? tokenMeta.content : "";
      if (token && !safeMethods.includes(String(request.method).toUpperCase())) {
        request.headers["X-CSRF-Token"] = token;
      }
      return request;
    },
  });
})();
