// The deadline board's script: countdowns to the second, the escalation stage as each clock
// reaches it, the live parts refreshed from the JSON endpoints, and the approve and file forms
// sent without a reload. Without it every page still works: the countdowns then show the time
// left when the page was made, and the forms post and answer with a page.
(function () {
  'use strict';
  var body = document.body;
  var prefix = body.getAttribute('data-prefix') || '';
  var live = body.getAttribute('data-live');
  var every = (parseInt(body.getAttribute('data-refresh'), 10) || 10) * 1000;
  var region = document.querySelector('[data-live-region]');
  var statusEl = document.querySelector('[data-status]');

  var symbols = { 'on-track': '○', '50': '◔', '75': '◑', '90': '◕', '1h': '▲', 'overdue': '⚠' };

  function say(text, problem) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = 'status' + (problem ? ' problem' : ' calm');
  }

  // The viewer's time zone, so that the server writes deadlines in it.
  var zoneChanged = false, zone = '';
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    zone = tz;
    var current = (document.cookie.match(/(?:^|; )breach_tz=([^;]*)/) || [])[1];
    if (tz && /^[A-Za-z0-9_+\/-]{1,64}$/.test(tz) && current !== tz) {
      document.cookie = 'breach_tz=' + tz + '; path=' + prefix + '/; max-age=31536000; samesite=lax';
      zoneChanged = true;
    }
  } catch (e) { /* the organisation's zone stays */ }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  function span(ms) {
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    if (d > 0) return d + 'd ' + pad(h) + 'h ' + pad(m) + 'm ' + pad(s) + 's';
    if (h > 0) return h + 'h ' + pad(m) + 'm ' + pad(s) + 's';
    if (m > 0) return m + 'm ' + pad(s) + 's';
    return s + 's';
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-countdown]').forEach(function (el) {
      var d = Date.parse(el.getAttribute('data-countdown')) - now;
      el.textContent = d >= 0 ? span(d) + ' left' : 'overdue by ' + span(-d);
      el.setAttribute('data-left', String(Math.round(d / 1000)));
      el.classList.toggle('overdue', d < 0);
    });
    document.querySelectorAll('tr[data-points]').forEach(function (row) {
      var points;
      try { points = JSON.parse(row.getAttribute('data-points')); } catch (e) { return; }
      var stage = 'on-track', label = 'on track';
      points.forEach(function (p) {
        if (now >= Date.parse(p.at)) { stage = p.stage; label = p.label; }
      });
      var el = row.querySelector('[data-stage]');
      if (!el || el.getAttribute('data-stage') === stage) return;
      row.className = row.className.replace(/\bstage-\S+/, 'stage-' + stage);
      el.className = 'stage stage-' + stage;
      el.setAttribute('data-stage', stage);
      el.querySelector('[data-stage-label]').textContent = label;
      el.querySelector('[data-stage-symbol]').textContent = symbols[stage] || '○';
    });
  }

  // A person typing in a form of the live part keeps what they typed: the refresh waits.
  function busy() {
    if (!region) return true;
    var a = document.activeElement;
    if (a && region.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    return Array.prototype.some.call(region.querySelectorAll('input[type=text], textarea'), function (i) { return i.value !== ''; });
  }

  var refreshing = null;
  function refresh() {
    if (!live || !region) return Promise.resolve();
    if (refreshing) return refreshing;
    refreshing = fetch(live, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          say('Your sign-in has ended: reload the page to sign in again.', true);
          return null;
        }
        return r.json();
      })
      .then(function (j) {
        if (!j || typeof j.html !== 'string' || busy()) return;
        region.innerHTML = j.html;
        tick();
        var u = document.querySelector('[data-updated]');
        if (u) u.textContent = ', refreshed ' + new Date(j.generated_at).toLocaleTimeString();
        var z = document.querySelector('[data-zone]');
        if (z && zone) z.textContent = zone;
      })
      .catch(function () { say('The board could not be refreshed; it tries again in a moment.', true); })
      .then(function () { refreshing = null; });
    return refreshing;
  }

  // After an action the incident moves within seconds: look more often for a while.
  function soon() {
    var n = 0;
    var t = setInterval(function () {
      refresh();
      if (++n >= 15) clearInterval(t);
    }, 1000);
  }

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute('data-act')) return;
    ev.preventDefault();
    var button = form.querySelector('button');
    if (button) button.disabled = true;
    say('Sending to the incident…');
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin', body: new URLSearchParams(new FormData(form)),
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': body.getAttribute('data-csrf') || '' }
    })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (x) {
        say(x.ok ? x.j.message : x.j.error, !x.ok);
        if (x.ok) form.reset();
        if (button) button.disabled = false;
        if (document.activeElement && form.contains(document.activeElement)) document.activeElement.blur();
        refresh();
        soon();
      })
      .catch(function () {
        say('The request did not reach the board: look at the board before trying again.', true);
        if (button) button.disabled = false;
      });
  });

  document.addEventListener('change', function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute('data-autosubmit')) ev.target.form.submit();
  });

  tick();
  setInterval(tick, 1000);
  if (live) {
    setInterval(refresh, every);
    if (zoneChanged) refresh();
  }
}());
