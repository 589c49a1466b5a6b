// rove ui: the little the pages need beyond HTML forms. Loaded from this
// server only (the Content-Security-Policy allows nothing else).
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  // A form that asks first (release, dismiss): its data-confirm text.
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
    });
  });
  // Sync: run in the background (POST /sync/start), its progress polled
  // from /sync/status (pulled so far, and of how many when the server's
  // log says), then the result page. Without fetch: the plain form.
  var s = document.getElementById('sync-form');
  if (s) {
    s.addEventListener('submit', function (e) {
      var b = s.querySelector('button');
      var p = document.getElementById('sync-progress');
      var st = document.getElementById('sync-status');
      var w = document.getElementById('sync-words');
      b.disabled = true;
      b.textContent = b.getAttribute('data-busy');
      if (p) p.hidden = false;
      if (!window.fetch || !w || !st) return;
      e.preventDefault();
      var words = function (n) { return w.getAttribute('data-' + n); };
      var fail = function (text) {
        st.textContent = words('failed') + ': ' + text;
        b.disabled = false;
        if (p) p.hidden = true;
      };
      var poll = function () {
        fetch('sync/status', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (j) {
          if (j.done) {
            if (j.location) window.location.assign(j.location.replace(/^\//, ''));
            else fail(j.error || '');
            return;
          }
          var text = words('pulling') + ' ' + j.pulled + ' ' + words('items');
          if (!j.snapshot && j.head > 0) {
            p.max = j.head;
            p.value = Math.min(j.cursor, j.head);
            text += ' (' + j.cursor + ' ' + words('of') + ' ' + j.head + ')';
          } else if (p) {
            p.removeAttribute('value');
          }
          st.textContent = j.chunks > 0 ? text : '';
          window.setTimeout(poll, 250);
        }, function (err) { fail(String(err)); });
      };
      fetch('sync/start', {
        method: 'POST', credentials: 'same-origin',
        body: new URLSearchParams(new FormData(s)),
      }).then(function (r) {
        if (r.status === 202 || r.status === 409) poll();
        else r.text().then(fail);
      }, function (err) { fail(String(err)); });
    });
  }
});
