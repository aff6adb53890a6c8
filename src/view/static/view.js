// medner view: tooltips, keyboard activation and lines between linked spans. No libraries, no inline script.
(function () {
  'use strict';
  var note = document.getElementById('note');
  if (!note) return;
  var shown = null;
  var layer = null;
  var SVG = 'http://www.w3.org/2000/svg';

  function markOf(el) {
    return el && el.closest ? el.closest('mark.hl') : null;
  }
  function tipOf(m) {
    return document.getElementById(m.getAttribute('aria-describedby'));
  }
  function firstPieces(res) {
    var seen = {};
    var out = [];
    note.querySelectorAll('mark.hl[data-res="' + res + '"]').forEach(function (p) {
      var s = p.getAttribute('data-span');
      if (!seen[s]) {
        seen[s] = true;
        out.push(p);
      }
    });
    return out;
  }
  function clearLinks() {
    note.querySelectorAll('mark.hl.linked').forEach(function (p) {
      p.classList.remove('linked');
    });
    if (layer) layer.replaceChildren();
  }
  function drawLinks(m) {
    var res = m.getAttribute('data-res');
    note.querySelectorAll('mark.hl[data-res="' + res + '"]').forEach(function (p) {
      p.classList.add('linked');
    });
    var heads = firstPieces(res);
    if (heads.length < 2) return;
    if (!layer) {
      layer = document.createElementNS(SVG, 'svg');
      layer.setAttribute('class', 'links-layer');
      layer.setAttribute('aria-hidden', 'true');
      document.body.appendChild(layer);
    }
    layer.setAttribute('width', String(document.documentElement.scrollWidth));
    layer.setAttribute('height', String(document.documentElement.scrollHeight));
    var a = heads[0].getBoundingClientRect();
    for (var i = 1; i < heads.length; i++) {
      var b = heads[i].getBoundingClientRect();
      var x1 = a.left + a.width / 2 + window.scrollX;
      var y1 = a.top + window.scrollY;
      var x2 = b.left + b.width / 2 + window.scrollX;
      var y2 = b.top + window.scrollY;
      var lift = Math.min(40, 12 + Math.abs(x2 - x1) / 8);
      var path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', 'M' + x1 + ',' + y1 + ' C' + x1 + ',' + (Math.min(y1, y2) - lift) + ' ' + x2 + ',' + (Math.min(y1, y2) - lift) + ' ' + x2 + ',' + y2);
      layer.appendChild(path);
    }
  }
  function hide() {
    if (shown) shown.hidden = true;
    shown = null;
    clearLinks();
  }
  function show(m) {
    hide();
    var t = tipOf(m);
    if (t) {
      t.hidden = false;
      var r = m.getBoundingClientRect();
      var left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - t.offsetWidth - 8));
      t.style.left = left + 'px';
      t.style.top = r.bottom + window.scrollY + 6 + 'px';
      shown = t;
    }
    drawLinks(m);
  }
  function open(m) {
    var href = m.getAttribute('data-href');
    if (href) window.location.assign(href);
  }

  note.addEventListener('mouseover', function (e) {
    var m = markOf(e.target);
    if (m) show(m);
  });
  note.addEventListener('mouseout', function (e) {
    if (!markOf(e.relatedTarget)) hide();
  });
  note.addEventListener('focusin', function (e) {
    var m = markOf(e.target);
    if (m) show(m);
  });
  note.addEventListener('focusout', hide);
  note.addEventListener('click', function (e) {
    var m = markOf(e.target);
    if (m) open(m);
  });
  note.addEventListener('keydown', function (e) {
    var m = markOf(e.target);
    if (!m) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open(m);
    } else if (e.key === 'Escape') {
      hide();
    }
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') hide();
  });
  // Following a #s-... link (from the patient page or the relations list) shows that span.
  function fromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.matches('mark.hl')) {
      el.focus();
    }
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
