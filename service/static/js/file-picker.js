// Show the chosen file's name next to the Chinese "选择文件" button.
(function () {
  "use strict";
  document.querySelectorAll("[data-file-input]").forEach(function (input) {
    input.addEventListener("change", function () {
      var label = input.closest(".file-picker").querySelector("[data-file-name]");
      label.textContent = input.files.length ? input.files[0].name : "未选择文件";
    });
  });
})();
