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
  // Sync: the button says it is working while the pull runs.
  var s = document.getElementById('sync-form');
  if (s) {
    s.addEventListener('submit', function () {
      var b = s.querySelector('button');
      b.disabled = true;
      b.textContent = b.getAttribute('data-busy');
      var p = document.getElementById('sync-progress');
      if (p) p.hidden = false;
    });
  }
});
