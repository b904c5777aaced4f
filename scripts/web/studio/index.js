// Entry of the process studio bundle: the bpmn-js Modeler with the properties panel and the
// gradflow group. Built by scripts/vendor_web_assets.sh into service/static/vendor/bpmn-studio/;
// the page glue (service/static/js/process-editor.js) uses the global `GradflowStudio`.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import GradflowProviderModule from "./gradflow-provider";
import spiffworkflowModdle from "./spiffworkflow-moddle.json";
import TranslateModule from "./translate";

function create(options) {
  return new BpmnModeler({
    container: options.container,
    propertiesPanel: { parent: options.panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, GradflowProviderModule, TranslateModule],
    moddleExtensions: { spiffworkflow: spiffworkflowModdle }
  });
}

window.GradflowStudio = { create: create };
