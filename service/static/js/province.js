// 省级 export buttons: download the streamed .xlsx with a progress line instead of a silent wait.
// Without this script the buttons are plain download links. The server sends X-Export-Rows (the
// number of rows the file will hold) before the first byte, so the line can say what is coming.
(function () {
  "use strict";

  function megabytes(n) {
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  }

  function filename(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename\*=UTF-8''([^;]+)/.exec(header);
    return match ? decodeURIComponent(match[1]) : "export.xlsx";
  }

  function failure(response) {
    return response.json().then(function (body) {
      return (body && body.message) || ("导出失败（" + response.status + "）");
    }, function () {
      return "导出失败（" + response.status + "）";
    });
  }

  function start(link, status) {
    if (link.getAttribute("aria-disabled") === "true") {
      return;
    }
    link.setAttribute("aria-disabled", "true");
    status.textContent = "正在准备导出…";
    fetch(link.href, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        return failure(response).then(function (message) { throw new Error(message); });
      }
      var rows = response.headers.get("X-Export-Rows") || "?";
      var reader = response.body.getReader();
      var chunks = [];
      var received = 0;
      status.textContent = "正在导出 " + rows + " 条记录…";
      function pump() {
        return reader.read().then(function (step) {
          if (step.done) {
            return;
          }
          chunks.push(step.value);
          received += step.value.length;
          status.textContent = "正在导出 " + rows + " 条记录：已接收 " + megabytes(received);
          return pump();
        });
      }
      return pump().then(function () {
        var blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "application/octet-stream" });
        var url = URL.createObjectURL(blob);
        var save = document.createElement("a");
        save.href = url;
        save.download = filename(response);
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        status.textContent = "导出完成：" + rows + " 条记录，" + megabytes(received);
      });
    }).catch(function (error) {
      status.textContent = (error && error.message) || "导出失败，请稍后重试";
    }).then(function () {
      link.removeAttribute("aria-disabled");
    });
  }

  document.querySelectorAll("a[data-province-export]").forEach(function (link) {
    var status = link.parentNode.querySelector(".export-progress");
    if (!status || !window.fetch || !window.ReadableStream) {
      return;
    }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      start(link, status);
    });
  });
})();
