// Render the two versions of the review page side by side with the vendored bpmn-js viewer and
// colour the element diff: the old diagram shows removed (red) and changed (amber) elements, the
// new one added (green) and changed (amber). The ids come from the data-diff attribute (JSON):
// CSP forbids inline scripts, so nothing is passed any other way.
(function () {
  "use strict";
  var pair = document.getElementById("diagram-diff");
  if (!pair || typeof BpmnJS === "undefined") { return; }
  var diff = JSON.parse(pair.dataset.diff || "{}");
  var marks = {
    old: [["removed", "diff-removed"], ["changed", "diff-changed"]],
    new: [["added", "diff-added"], ["changed", "diff-changed"]]
  };

  function show(box) {
    var viewer = new BpmnJS({ container: box });
    return fetch(box.dataset.src, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        var count = 0;
        (marks[box.dataset.side] || []).forEach(function (pairing) {
          (diff[pairing[0]] || []).forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, pairing[1]); count += 1; }
          });
        });
        canvas.zoom("fit-viewport", "auto");
        box.dataset.markers = String(count);
        box.dataset.rendered = "1";
      });
  }

  var boxes = pair.querySelectorAll(".diagram[data-src]");
  Promise.all(Array.prototype.map.call(boxes, show)).catch(function () {
    var error = document.getElementById("diagram-error");
    if (error) { error.hidden = false; }
  });
})();
