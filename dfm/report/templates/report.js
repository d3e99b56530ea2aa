(function () {
  "use strict";
  var pinned = null;
  function parts(body) {
    return document.querySelectorAll('svg.part[data-body="' + body + '"]');
  }
  function clear() {
    var lit = document.querySelectorAll(".hl, .pinned");
    for (var i = 0; i < lit.length; i++) { lit[i].classList.remove("hl", "pinned"); }
    var caps = document.querySelectorAll(".pic-caption");
    for (var j = 0; j < caps.length; j++) { caps[j].textContent = ""; }
  }
  function show(row) {
    clear();
    if (!row) { return; }
    row.classList.add("hl");
    var faces = (row.getAttribute("data-faces") || "").split(" ").filter(Boolean);
    var body = row.getAttribute("data-body");
    var svgs = parts(body);
    for (var s = 0; s < svgs.length; s++) {
      var seen = [];
      for (var f = 0; f < faces.length; f++) {
        var groups = svgs[s].querySelectorAll('g[data-face="' + faces[f] + '"]');
        for (var g = 0; g < groups.length; g++) { groups[g].classList.add("hl"); }
        if (groups.length) { seen.push(faces[f]); }
      }
      var cap = svgs[s].parentNode.querySelector(".pic-caption");
      if (cap && faces.length) {
        var hidden = faces.filter(function (x) { return seen.indexOf(x) < 0; });
        cap.textContent = "Faces " + faces.join(", ") +
          (hidden.length ? " (not visible in this view: " + hidden.join(", ") + ")" : "");
      }
    }
  }
  var rows = document.querySelectorAll("tr[data-faces]");
  for (var i = 0; i < rows.length; i++) {
    rows[i].addEventListener("mouseenter", function (ev) { if (!pinned) { show(ev.currentTarget); } });
    rows[i].addEventListener("mouseleave", function () { if (!pinned) { clear(); } });
    rows[i].addEventListener("focus", function (ev) { if (!pinned) { show(ev.currentTarget); } });
    rows[i].addEventListener("click", function (ev) {
      var row = ev.currentTarget;
      if (pinned === row) { pinned = null; clear(); return; }
      pinned = row;
      show(row);
      row.classList.add("pinned");
    });
    rows[i].addEventListener("keydown", function (ev) {
      if (ev.target !== ev.currentTarget) { return; }  // a link in the row acts for itself
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); ev.currentTarget.click(); }
    });
  }
  // A link to a finding (from the access section) scrolls to it and pins its faces.
  var links = document.querySelectorAll("a.finding-link");
  for (var n = 0; n < links.length; n++) {
    links[n].addEventListener("click", function (ev) {
      ev.stopPropagation();  // not a click on the row the link sits in
      var target = document.getElementById((ev.currentTarget.getAttribute("href") || "").slice(1));
      if (!target) { return; }
      pinned = target;
      show(target);
      target.classList.add("pinned");
    });
  }
  var svgs = document.querySelectorAll("svg.part");
  for (var k = 0; k < svgs.length; k++) {
    svgs[k].addEventListener("mousemove", function (ev) {
      var g = ev.target.closest ? ev.target.closest("g[data-face]") : null;
      var out = ev.currentTarget.parentNode.querySelector(".pic-face");
      if (out) { out.textContent = g ? "Face " + g.getAttribute("data-face") : ""; }
    });
  }
  document.documentElement.classList.add("js");
})();
