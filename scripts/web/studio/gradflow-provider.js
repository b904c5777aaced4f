// The 「gradflow」 group of the properties panel: edits what service/workflow/definitions.py reads
// (spiffworkflow:properties on user tasks and end events, the lane id as role key, the decision on
// flows leaving an exclusive gateway) so a process designer never has to touch the XML.
// The server's validation (POST /api/v1/processes/validate) stays the one that counts; the checks
// here only keep obviously broken values (an id bpmn-js would reject) out of the model.
import { h } from "@bpmn-io/properties-panel/preact";
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

var ROLE_KEY = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
var GENERATED_LANE_ID = /^Lane_[0-9a-z]{7}$/;
var DECISIONS = { approve: "通过", reject: "不通过" };

// ---- spiffworkflow:properties helpers -------------------------------------------------------

function propertiesOf(bo) {
  var ext = bo.get("extensionElements");
  if (!ext) { return null; }
  return (ext.get("values") || []).filter(function (v) { return is(v, "spiffworkflow:Properties"); })[0] || null;
}

function getProperty(element, name) {
  var props = propertiesOf(getBusinessObject(element));
  if (!props) { return ""; }
  var found = (props.get("properties") || []).filter(function (p) { return p.name === name; })[0];
  return found ? (found.value || "") : "";
}

// One undoable command that creates extensionElements / spiffworkflow:properties on demand and
// adds, changes or (for an empty value) removes the named spiffworkflow:property.
function setProperty(element, name, value, bpmnFactory, commandStack) {
  var bo = getBusinessObject(element);
  var commands = [];
  var ext = bo.get("extensionElements");
  if (!ext) {
    if (!value) { return; }
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  var props = commands.length ? null : propertiesOf(bo);
  if (!props) {
    if (!value) { return; }
    props = bpmnFactory.create("spiffworkflow:Properties", { properties: [] });
    props.$parent = ext;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: ext, properties: { values: (ext.get("values") || []).concat([props]) } } });
  }
  var list = props.get("properties") || [];
  var existing = list.filter(function (p) { return p.name === name; })[0];
  if (!value) {
    if (!existing) { return; }
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: props,
        properties: { properties: list.filter(function (p) { return p !== existing; }) } } });
  } else if (existing) {
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: existing, properties: { value: value } } });
  } else {
    var created = bpmnFactory.create("spiffworkflow:Property", { name: name, value: value });
    created.$parent = props;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: props, properties: { properties: list.concat([created]) } } });
  }
  commandStack.execute("properties-panel.multi-command-executor", commands);
}

function laneIds(element) {
  var bo = getBusinessObject(element);
  var process = bo;
  while (process && !is(process, "bpmn:Process")) { process = process.$parent; }
  var ids = [];
  function walk(laneSet) {
    ((laneSet && laneSet.get("lanes")) || []).forEach(function (lane) {
      ids.push(lane.id);
      walk(lane.get("childLaneSet"));
    });
  }
  ((process && process.get("laneSets")) || []).forEach(walk);
  return ids;
}

// ---- entries -------------------------------------------------------------------------------

function PropertyField(props) {
  var element = props.element;
  var bpmnFactory = useService("bpmnFactory");
  var commandStack = useService("commandStack");
  var debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element: element, id: props.id, label: props.label, description: props.description, debounce: debounce,
    validate: props.validate,
    getValue: function () { return getProperty(element, props.name); },
    setValue: function (value, error) {
      if (error) { return; }
      setProperty(element, props.name, (value || "").trim(), bpmnFactory, commandStack);
    }
  });
}

function ActionField(props) {
  var element = props.element;
  var bpmnFactory = useService("bpmnFactory");
  var commandStack = useService("commandStack");
  return h(SelectEntry, {
    element: element, id: props.id, label: "动作",
    getValue: function () { return getProperty(element, "action"); },
    setValue: function (value) { setProperty(element, "action", value, bpmnFactory, commandStack); },
    getOptions: function () {
      return [{ value: "", label: "（请选择）" }, { value: "submit", label: "学生提交" }, { value: "review", label: "审核" }];
    }
  });
}

function OnBehalfField(props) {
  var element = props.element;
  var ids = laneIds(element);
  return h(PropertyField, {
    element: element, id: props.id, name: "on_behalf_roles", label: "可代为提交的角色",
    description: "填写泳道的角色标识，以空格分隔（可选：" + ids.join("、") + "）",
    validate: function (value) {
      var unknown = (value || "").split(/\s+/).filter(function (r) { return r && ids.indexOf(r) < 0; });
      return unknown.length ? "没有这些泳道：" + unknown.join("、") : null;
    }
  });
}

function LaneIdField(props) {
  var element = props.element;
  var modeling = useService("modeling");
  var elementRegistry = useService("elementRegistry");
  var debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element: element, id: props.id, label: "角色标识", debounce: debounce,
    description: "账号按此标识分配角色，如 counselor、level1；字母开头，只含字母、数字、下划线",
    getValue: function () { return getBusinessObject(element).id; },
    validate: function (value) {
      value = (value || "").trim();
      if (!ROLE_KEY.test(value)) { return "角色标识须字母开头，只含字母、数字、下划线，最多 32 位"; }
      if (GENERATED_LANE_ID.test(value)) { return "这是编辑器自动生成的标识，请改为表示角色的英文标识"; }
      var other = elementRegistry.get(value);
      if (other && other.businessObject !== getBusinessObject(element)) { return "已有元素使用此标识"; }
      return null;
    },
    setValue: function (value, error) {
      if (error) { return; }
      modeling.updateProperties(element, { id: (value || "").trim() });
    }
  });
}

function NameField(props) {
  var element = props.element;
  var modeling = useService("modeling");
  var debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element: element, id: props.id, label: props.label, description: props.description, debounce: debounce,
    getValue: function () { return getBusinessObject(element).name || ""; },
    setValue: function (value) { modeling.updateProperties(element, { name: value }); }
  });
}

function decisionOf(element) {
  var cond = getBusinessObject(element).get("conditionExpression");
  var body = (cond && cond.body) || "";
  var m = /^\s*decision\s*==\s*["'](approve|reject)["']\s*$/.exec(body);
  return m ? m[1] : (body ? "other" : "");
}

function DecisionField(props) {
  var element = props.element;
  var modeling = useService("modeling");
  var bpmnFactory = useService("bpmnFactory");
  return h(SelectEntry, {
    element: element, id: props.id, label: "审核结果",
    description: "审核人选择此结果时走这条连线",
    getValue: function () { return decisionOf(element); },
    setValue: function (value) {
      var bo = getBusinessObject(element);
      var update = {};
      if (value === "approve" || value === "reject") {
        update.conditionExpression = bpmnFactory.create("bpmn:FormalExpression", { body: "decision == \"" + value + "\"" });
        // Keep the label in step when it is empty or one of ours; a designer's own label stays.
        if (!bo.name || bo.name === DECISIONS.approve || bo.name === DECISIONS.reject) { update.name = DECISIONS[value]; }
      } else if (value === "") {
        update.conditionExpression = undefined;
      } else {
        return;
      }
      modeling.updateProperties(element, update);
    },
    getOptions: function () {
      var options = [{ value: "", label: "（无条件）" }, { value: "approve", label: "通过" }, { value: "reject", label: "不通过" }];
      if (decisionOf(element) === "other") { options.push({ value: "other", label: "其他条件（请改为通过或不通过）" }); }
      return options;
    }
  });
}

// ---- the group ----------------------------------------------------------------------------

function entries(element) {
  var bo = getBusinessObject(element);
  var list = [];
  function prop(name, label, description) {
    list.push({ id: "gradflow-" + name, element: element, isEdited: isTextFieldEntryEdited,
      component: function (p) { return h(PropertyField, { element: p.element, id: p.id, name: name, label: label, description: description }); } });
  }
  if (is(element, "bpmn:UserTask")) {
    prop("status", "状态名称", "记录停在此任务时显示的审核状态，如 二级待审");
    list.push({ id: "gradflow-action", element: element, component: ActionField, isEdited: isSelectEntryEdited });
    if (getProperty(element, "action") === "review") {
      prop("level", "审核层级", "如 二级、一级、中心");
    }
    prop("report_status", "上报状态", "如 未上报、已提交");
    if (getProperty(element, "action") === "submit") {
      list.push({ id: "gradflow-on_behalf_roles", element: element, component: OnBehalfField, isEdited: isTextFieldEntryEdited });
    }
  } else if (is(element, "bpmn:Lane")) {
    list.push({ id: "gradflow-lane-id", element: element, component: LaneIdField, isEdited: isTextFieldEntryEdited });
    list.push({ id: "gradflow-lane-name", element: element, isEdited: isTextFieldEntryEdited,
      component: function (p) { return h(NameField, { element: p.element, id: p.id, label: "显示名称", description: "如 一级用户（院系）" }); } });
  } else if (is(element, "bpmn:SequenceFlow") && bo.sourceRef && is(bo.sourceRef, "bpmn:ExclusiveGateway")) {
    list.push({ id: "gradflow-decision", element: element, component: DecisionField, isEdited: isSelectEntryEdited });
  } else if (is(element, "bpmn:EndEvent")) {
    prop("status", "状态名称", "流程结束时的审核状态，如 完成");
    prop("report_status", "上报状态", "如 已提交");
  }
  return list;
}

function GradflowPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(500, this);
}

GradflowPropertiesProvider.$inject = ["propertiesPanel"];

GradflowPropertiesProvider.prototype.getGroups = function (element) {
  return function (groups) {
    // Only what gradflow reads: 常规 (id, name), 说明 and our group. Timers, messages, multi-instance
    // and the rest would be refused by deploy or ignored, so the panel does not offer them.
    groups = groups.filter(function (g) { return g.id === "general" || g.id === "documentation"; });
    var list = entries(element);
    if (list.length) {
      // Right after 常规 (general), so what gradflow reads is the first thing a designer sees.
      var at = groups.findIndex(function (g) { return g.id === "general"; });
      groups.splice(at < 0 ? 0 : at + 1, 0, { id: "gradflow", label: "gradflow", entries: list, shouldOpen: true });
    }
    return groups;
  };
};

export default {
  __init__: ["gradflowPropertiesProvider"],
  gradflowPropertiesProvider: ["type", GradflowPropertiesProvider]
};
