// Report form behaviour: region pickers (province → city → county from the code tables API) and
// 定向委培单位 enabled only for 定向 / 委培 (the codes come from the form's data attribute).
(function () {
  "use strict";
  function option(value, label) {
    var o = document.createElement("option");
    o.value = value; o.textContent = label; return o;
  }
  function fill(select, rows) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    rows.forEach(function (r) { select.appendChild(option(r.code, r.label)); });
  }
  document.querySelectorAll("[data-region-picker]").forEach(function (picker) {
    var selects = picker.querySelectorAll("select");
    var hidden = picker.querySelector("[data-region-value]");
    function deepest() {
      var v = "";
      selects.forEach(function (s) { if (s.value) { v = s.value; } });
      hidden.value = v;
    }
    selects.forEach(function (select, level) {
      select.addEventListener("change", function () {
        for (var i = level + 1; i < selects.length; i++) { fill(selects[i], []); }
        deepest();
        var next = selects[level + 1];
        if (!next || !select.value) { return; }
        fetch("/api/v1/codes/region?parent=" + encodeURIComponent(select.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { rows: [] }; })
          .then(function (body) {
            fill(next, body.rows || []);
            next.disabled = !(body.rows || []).length;
            if (next.disabled && selects[level + 2]) { selects[level + 2].disabled = true; }
          });
      });
    });
  });
  var form = document.querySelector("[data-directed-modes]");
  if (form) {
    var modes = form.dataset.directedModes.split(",");
    var mode = form.querySelector("[name='school.training_mode'], [data-name='school.training_mode']");
    var unit = form.querySelector("[name='school.directed_unit']");
    if (mode && unit) {
      var sync = function () {
        var on = modes.indexOf(mode.name ? mode.value : mode.dataset.value) >= 0;
        unit.readOnly = !on;
        unit.setAttribute("aria-disabled", on ? "false" : "true");
        unit.placeholder = on ? "请填写定向或委培单位" : "仅定向、委培学生填写";
        if (!on) { unit.value = ""; }
      };
      mode.addEventListener("change", sync);
      sync();
    }
  }
})();
