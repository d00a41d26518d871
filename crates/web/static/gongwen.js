// The pages' one shared script (served at /static/gongwen.js; no inline script, so the
// Content-Security-Policy forbids all others). Pages work without it.
(function () {
  'use strict';
  // "Back" links go back in history when there is one.
  document.querySelectorAll('[data-back]').forEach(function (a) {
    a.addEventListener('click', function (e) {
      if (history.length > 1) { e.preventDefault(); history.back(); }
    });
  });
  // A form sent back with errors: move the focus to the summary, which is announced.
  var errors = document.getElementById('form-errors');
  if (errors) { errors.setAttribute('tabindex', '-1'); errors.focus(); }
})();
