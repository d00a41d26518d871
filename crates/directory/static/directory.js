// The directory's pages' one script (served at /static/directory.js; no inline script, so
// the Content-Security-Policy forbids all others).
(function () {
  'use strict';
  // Uploading a signed application (new, or a correction): the file as the request body.
  var up = document.getElementById('up');
  if (up) {
    up.addEventListener('submit', async function (e) {
      e.preventDefault();
      var f = document.getElementById('file').files[0];
      var r = document.getElementById('result');
      var a = await fetch(up.dataset.url, {
        method: up.dataset.method,
        body: f,
        headers: { 'content-type': 'application/pkcs7-mime' }
      });
      var j = await a.json();
      if (a.ok) {
        if (up.dataset.then == 'reload') location.reload();
        else location.href = '/applications/' + j.id;
      } else {
        r.className = 'msg';
        r.textContent = j.message + '：' + (j.detail || '');
      }
    });
  }
  // Looking up an application by its number.
  var find = document.getElementById('find');
  if (find) {
    find.addEventListener('submit', function (e) {
      e.preventDefault();
      location.href = '/applications/' + encodeURIComponent(find.elements.id.value);
    });
  }
  document.querySelectorAll('[data-back]').forEach(function (a) {
    a.addEventListener('click', function (e) { e.preventDefault(); history.back(); });
  });
})();
