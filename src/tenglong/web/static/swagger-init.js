// Starts Swagger UI on /api/v1/docs (templates/api_docs.html) from the vendored bundle. A file, not an inline script,
// so it runs under the Content-Security-Policy; the OpenAPI URL comes from the page's data-openapi-url attribute.
(function () {
  'use strict';
  var el = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null  // no badge fetched from validator.swagger.io
  });
})();
