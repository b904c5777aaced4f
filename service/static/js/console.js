// Console behaviour: select-all, the batch review dialog (不通过 needs a comment), the region filter.
(function () {
  "use strict";
  var dialog = document.getElementById("batch-dialog");
  var target = null;
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=record_ids]").forEach(function (c) { c.checked = box.checked; });
    });
  });
  document.querySelectorAll("[data-batch]").forEach(function (button) {
    button.addEventListener("click", function () {
      target = document.getElementById(button.dataset.batch);
      var kind = button.dataset.kind;
      var boxes = document.querySelectorAll(kind === "majors" ? "input[name=majors]:checked" : "input[name=record_ids]:checked");
      if (!boxes.length) {
        window.alert(kind === "majors" ? "请先勾选专业" : "请先勾选要审核的记录");
        return;
      }
      var summary = kind === "majors"
        ? "已选择 " + boxes.length + " 个专业，共 " + Array.prototype.reduce.call(boxes, function (n, b) { return n + Number(b.dataset.count || 0); }, 0) + " 条待审核记录"
        : "已选择 " + boxes.length + " 条记录";
      document.getElementById("batch-dialog-summary").textContent = summary;
      document.getElementById("batch-dialog-error").hidden = true;
      dialog.showModal();
    });
  });
  if (dialog) {
    dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
    document.getElementById("batch-dialog-form").addEventListener("submit", function (event) {
      var decision = dialog.querySelector("input[name=dlg_decision]:checked").value;
      var comment = dialog.querySelector("textarea[name=dlg_comment]").value.trim();
      if (decision === "reject" && !comment) {
        event.preventDefault();
        document.getElementById("batch-dialog-error").hidden = false;
        return;
      }
      target.querySelector("input[name=decision]").value = decision;
      target.querySelector("input[name=comment]").value = comment;
      target.submit();
    });
  }
  var province = document.querySelector("[data-origin-province]");
  var city = document.querySelector("[data-origin-city]");
  if (province && city) {
    province.addEventListener("change", function () {
      city.innerHTML = "<option value=\"\">全省</option>";
      city.hidden = !province.value;
      if (!province.value) { return; }
      fetch("/api/v1/codes/region?parent=" + province.value + "0000", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { rows: [] }; })
        .then(function (body) {
          (body.rows || []).forEach(function (row) {
            var o = document.createElement("option");
            o.value = row.code.slice(0, 4); o.textContent = row.label; city.appendChild(o);
          });
        });
    });
  }
  // Single review page: 不通过 needs a comment before the form goes.
  var review = document.getElementById("review-form");
  if (review) {
    review.addEventListener("submit", function (event) {
      var d = review.querySelector("input[name=decision]:checked");
      var c = review.querySelector("textarea[name=comment]");
      var err = document.getElementById("review-comment-error");
      if (d && d.value === "reject" && !c.value.trim()) {
        event.preventDefault();
        err.hidden = false;
        c.focus();
      }
    });
  }
})();
