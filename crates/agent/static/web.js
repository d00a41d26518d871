// The web client's one script (served at /static/web.js; no inline script, so the
// Content-Security-Policy forbids all others). Every page works without it except the
// sign-in button that asks the local signer.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };

  // Sign-in: the local signer (gongwen signer) signs the page's challenge; the form is sent.
  var sign = $('sign');
  if (sign) {
    sign.addEventListener('click', async function () {
      var s = $('status');
      s.textContent = '簽章中……';
      try {
        var r = await fetch(sign.dataset.signer + '/sign', {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=utf-8' },
          body: $('challenge').value
        });
        var t = await r.text();
        if (!r.ok) throw new Error(t);
        $('signed').value = t;
        $('login').submit();
      } catch (e) {
        s.textContent = '無法使用本機簽章程式（' + e.message + '）。請確認已插卡並啟動 gongwen signer，或改用手動方式。';
      }
    });
  }

  // Compose: the fields of the chosen kind, the address book, groups.
  var kind = $('kind');
  if (kind && $('compose')) {
    var show = function () {
      var k = kind.value;
      $('f-letter').hidden = (k == '公告' || k == '開會通知單');
      $('f-notice').hidden = (k != '公告');
      $('f-meeting').hidden = (k != '開會通知單');
      // 出席者 and 列席者 belong to meeting notices; elsewhere 正本 means 正本.
      var meeting = (k == '開會通知單');
      var p = meeting ? '出席者' : '正本', c = meeting ? '列席者' : '副本';
      $('primary-label').textContent = p;
      $('copies-label').textContent = c;
      $('copies-attach-label').textContent = c;
      $('to-primary').textContent = '加入' + p;
      $('to-copies').textContent = '加入' + c;
    };
    kind.addEventListener('change', show);
    show();
    var q = $('book-q');
    q.addEventListener('input', async function () {
      if (q.value.length < 1) return;
      var r = await fetch('/compose/recipients?q=' + encodeURIComponent(q.value));
      if (!r.ok) return;
      var l = await r.json();
      var book = $('book');
      book.replaceChildren.apply(book, l.map(function (x) {
        var o = document.createElement('option');
        o.value = x.code + ' ' + x.name;
        return o;
      }));
    });
    var add = function (id, line) {
      var t = $(id);
      if (t.value.split('\n').some(function (x) { return x.split(' ')[0] == line.split(' ')[0]; })) return;
      t.value = (t.value && !t.value.endsWith('\n') ? t.value + '\n' : t.value) + line;
    };
    $('to-primary').addEventListener('click', function () { if (q.value) add('primary', q.value); q.value = ''; });
    $('to-copies').addEventListener('click', function () { if (q.value) add('copies', q.value); q.value = ''; });
    document.querySelectorAll('.group').forEach(function (g) {
      g.addEventListener('change', function () {
        if (g.checked) g.dataset.members.split(' ').forEach(function (c) { add('primary', c); });
      });
    });
  }

  // Buttons that print the page (links that go back: /static/gongwen.js).
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();
