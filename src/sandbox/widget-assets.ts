// The widget's static files live in strings so they ship inside the compiled output with no copy step.

/** Marks the forms as embedded when the page runs in an iframe, so completion posts a message instead of redirecting. */
export const WIDGET_JS = `(function () {
  'use strict';
  if (window.top === window.self) return;
  var forms = document.querySelectorAll('form[data-decision]');
  for (var i = 0; i < forms.length; i++) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = 'embedded';
    input.value = '1';
    forms[i].appendChild(input);
  }
})();
`;

/** Iframe mode: hands the would-be callback to the parent window, as the real widget does. */
export const WIDGET_EMBEDDED_JS = `(function () {
  'use strict';
  var block = document.getElementById('callback-data');
  if (!block) return;
  var data = JSON.parse(block.textContent);
  if (window.parent && window.parent !== window) window.parent.postMessage(data, '*');
})();
`;

export const WIDGET_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f5;color:#1d2733}
main{max-width:420px;margin:40px auto;padding:24px;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{margin:0 0 4px;font-size:1.4rem}
.lead{margin:0 0 16px;color:#5b6775;font-size:.9rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0 0 20px}
dt{color:#5b6775}dd{margin:0;font-weight:600;word-break:break-all}
.actions{display:flex;gap:8px;flex-wrap:wrap}
.actions form{margin:0;flex:1}
button{width:100%;padding:10px 12px;border:0;border-radius:8px;font:inherit;font-weight:600;cursor:pointer}
#approve{background:#1f7a4d;color:#fff}#cancel{background:#dde3ea;color:#1d2733}#fail{background:#b3261e;color:#fff}
`;
