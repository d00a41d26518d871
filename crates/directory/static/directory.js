// The directory's own script (served at /static/directory.js, after the foundation's
// gongwen.js; no inline script, so the Content-Security-Policy forbids all others).
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
        r.className = 'notice error';
        r.setAttribute('role', 'alert');
        r.textContent = j.message + '：' + (j.detail || '');
      }
    });
  }
})();
