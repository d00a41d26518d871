// The office's one script (served at /static/office.js; no inline script, so the
// Content-Security-Policy forbids all others). Every page works without it except the buttons
// that ask the local signer; those have a manual way beside them.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };

  // Sign-in and every step: the local signer (gongwen signer) signs the page's text, and the
  // form is sent with the signature.
  var sign = $('sign');
  if (sign) {
    sign.addEventListener('click', async function () {
      var s = $('status');
      s.textContent = '簽章中……';
      sign.disabled = true;
      try {
        var r = await fetch(sign.dataset.signer + '/sign', {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=utf-8' },
          body: $(sign.dataset.text).value
        });
        var t = await r.text();
        if (!r.ok) throw new Error(t);
        $('signed').value = t;
        $(sign.dataset.form).submit();
      } catch (e) {
        sign.disabled = false;
        s.textContent = '無法使用本機簽章程式（' + e.message + '）。請確認已插卡並啟動 gongwen signer，或改用手動方式。';
      }
    });
  }

  // The drafting form: only the fields of the chosen 文別 are shown (all of them without
  // the script; the office reads only those of the kind).
  var kind = $('kind');
  if (kind && $('drafting')) {
    var show = function () {
      document.querySelectorAll('#drafting [data-kinds]').forEach(function (el) {
        el.hidden = el.dataset.kinds.split(' ').indexOf(kind.value) < 0;
      });
    };
    kind.addEventListener('change', show);
    show();
  }

  // Buttons that print the page.
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();
