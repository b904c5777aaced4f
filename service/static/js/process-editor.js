// The process studio page (/admin/processes/new): loads a version's BPMN into the vendored
// Modeler (vendor/bpmn-studio/process-studio.js, global GradflowStudio), asks the server to check
// every change (POST /api/v1/processes/validate, debounced), lists the problems (click: select and
// scroll to the element) and marks them on the diagram, deploys without activating and goes to the
// version's review page. The server's answer is the only check that counts.
(function () {
  "use strict";
  var root = document.getElementById("studio");
  if (!root || typeof GradflowStudio === "undefined") { return; }
  var deployButton = document.getElementById("studio-deploy");
  var downloadButton = document.getElementById("studio-download");
  var stateText = document.getElementById("studio-state");
  var list = document.getElementById("studio-problems");
  var okBox = document.getElementById("studio-ok");
  var errorBox = document.getElementById("studio-error");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var MARKER = "gf-problem";
  var modeler = GradflowStudio.create({ container: document.getElementById("studio-canvas"),
                                        panel: document.getElementById("studio-panel") });
  window.gradflowStudio = modeler;  // for the browser tests (modeling API) and the curious admin
  var marked = [];
  var sequence = 0;   // answers to older checks are dropped
  var timer = null;
  var valid = false;
  var busy = false;

  function setState(text) { stateText.textContent = text; }
  function refreshButtons() { deployButton.disabled = busy || !valid; }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function clearMarkers() {
    var canvas = modeler.get("canvas");
    // Elements, not ids: a lane whose id (its role key) was just corrected keeps its shape.
    marked.forEach(function (el) { try { canvas.removeMarker(el, MARKER); } catch (e) { /* element deleted */ } });
    marked = [];
  }

  // A problem names a BPMN element id; a process has no shape of its own in a collaboration, so
  // its problems go to the pool (participant) that shows it.
  function shapeOf(id) {
    if (!id) { return null; }
    var registry = modeler.get("elementRegistry");
    return registry.get(id) || registry.filter(function (el) {
      var bo = el.businessObject;
      return el.type === "bpmn:Participant" && bo && bo.processRef && bo.processRef.id === id;
    })[0] || null;
  }

  function focusElement(id) {
    var el = shapeOf(id);
    if (!el) { return; }
    modeler.get("selection").select(el);
    var canvas = modeler.get("canvas");
    if (canvas.scrollToElement) { canvas.scrollToElement(el); }
  }

  function showProblems(problems) {
    clearMarkers();
    list.textContent = "";
    var canvas = modeler.get("canvas");
    problems.forEach(function (p) {
      var li = document.createElement("li");
      var id = p.element_id || "";
      var known = shapeOf(id);
      var head = document.createElement(known ? "button" : "span");
      head.className = known ? "link studio-problem-target" : "studio-problem-target";
      if (known) { head.type = "button"; head.dataset.elementId = id; }
      head.textContent = p.element_name || id || "整个流程";
      li.appendChild(head);
      if (id && (p.element_name || "").indexOf(id) < 0) {
        var small = document.createElement("span");
        small.className = "muted small";
        small.textContent = " " + id;
        li.appendChild(small);
      }
      li.appendChild(document.createTextNode("：" + (p.problem || "")));
      li.dataset.elementId = id;
      list.appendChild(li);
      if (known && marked.indexOf(known) < 0) { canvas.addMarker(known, MARKER); marked.push(known); }
    });
    okBox.hidden = problems.length > 0;
  }

  list.addEventListener("click", function (event) {
    var target = event.target.closest("[data-element-id]");
    if (target && target.dataset.elementId) { focusElement(target.dataset.elementId); }
  });

  function validate() {
    var mine = ++sequence;
    valid = false;
    refreshButtons();
    setState("正在校验…");
    return modeler.saveXML({ format: true }).then(function (out) {
      return post(root.dataset.validateUrl, { bpmn: out.xml });
    }).then(function (answer) {
      if (mine !== sequence) { return; }
      if (answer.status !== 200) {
        errorBox.hidden = false;
        errorBox.textContent = (answer.data && answer.data.message) || ("校验失败（" + answer.status + "）");
        setState("无法校验");
        return;
      }
      errorBox.hidden = true;
      var problems = answer.data.problems || [];
      showProblems(problems);
      valid = !!answer.data.valid && problems.length === 0;
      setState(valid ? "校验通过" : "有 " + problems.length + " 个问题");
      root.dataset.checked = String(mine);
      refreshButtons();
    }).catch(function () {
      if (mine !== sequence) { return; }
      errorBox.hidden = false;
      errorBox.textContent = "无法连接服务器，稍后会在下次修改时重试";
      setState("无法校验");
    });
  }

  var dirty = false;  // edits not yet deployed or downloaded: leaving the page asks first
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !busy) { event.preventDefault(); event.returnValue = ""; }
  });

  function schedule() {
    dirty = true;
    sequence++;  // a check still on its way describes an older diagram: its answer is dropped
    valid = false;
    refreshButtons();
    setState("已修改，等待校验…");
    root.dataset.checked = "";
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(validate, 500);
  }

  deployButton.addEventListener("click", function () {
    if (!valid) { return; }
    busy = true;
    refreshButtons();
    setState("正在部署…");
    modeler.saveXML({ format: true }).then(function (out) {
      return post(root.dataset.deployUrl, { bpmn: out.xml, source_name: root.dataset.sourceName });
    }).then(function (answer) {
      if ((answer.status === 201 || answer.status === 200) && answer.data.review_url) {
        window.location.assign(answer.data.review_url);
        return;
      }
      busy = false;
      if (answer.status === 422 && answer.data.details) {
        showProblems(answer.data.details);
        valid = false;
      }
      errorBox.hidden = false;
      errorBox.textContent = (answer.data && answer.data.message) || ("部署失败（" + answer.status + "）");
      setState("未部署");
      refreshButtons();
    }).catch(function () {
      busy = false;
      errorBox.hidden = false;
      errorBox.textContent = "无法连接服务器，未部署";
      setState("未部署");
      refreshButtons();
    });
  });

  downloadButton.addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (out) {
      var url = URL.createObjectURL(new Blob([out.xml], { type: "application/xml" }));
      var a = document.createElement("a");
      a.href = url;
      a.download = root.dataset.sourceName;
      document.body.appendChild(a);
      a.click();
      a.remove();
      dirty = false;
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  });

  fetch(root.dataset.src, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      downloadButton.disabled = false;
      root.dataset.loaded = "1";
      modeler.on("commandStack.changed", schedule);
      return validate();
    })
    .catch(function () {
      errorBox.hidden = false;
      errorBox.textContent = "流程图无法载入";
      setState("载入失败");
    });
})();
