// Chinese labels for the Modeler's palette, context pad, the panel header (element types) and the
// standard properties groups the studio keeps (常规: id, name). Strings not listed stay English; {placeholders} are filled in.
var ZH = {
  "General": "常规",
  "User Task": "用户任务",
  "Task": "任务",
  "Lane": "泳道",
  "Sequence Flow": "连线",
  "Conditional Flow": "条件连线",
  "Default Flow": "默认连线",
  "Exclusive Gateway": "排他网关",
  "Parallel Gateway": "并行网关",
  "Start Event": "开始事件",
  "End Event": "结束事件",
  "Collaboration": "协作",
  "Process": "流程",
  "Name": "名称",
  "ID": "ID",
  "Documentation": "说明",
  "Element documentation": "元素说明",
  "Process ID": "流程 ID",
  "Process name": "流程名称",
  "Executable": "可执行",
  "Condition": "条件",
  "Participant": "参与者",
  "Activate hand tool": "抓手工具",
  "Activate lasso tool": "框选工具",
  "Activate create/remove space tool": "插入/删除空间",
  "Activate global connect tool": "连线工具",
  "Add lane above": "在上方添加泳道",
  "Add lane below": "在下方添加泳道",
  "Divide into two lanes": "分成两个泳道",
  "Divide into three lanes": "分成三个泳道",
  "Append task": "追加任务",
  "Append gateway": "追加网关",
  "Append end event": "追加结束事件",
  "Append intermediate/boundary event": "追加中间事件",
  "Add text annotation": "添加注释",
  "Change element": "更改类型",
  "Connect to other element": "连接到其他元素",
  "Delete": "删除",
  "Create task": "创建任务",
  "Create gateway": "创建网关",
  "Create start event": "创建开始事件",
  "Create end event": "创建结束事件",
  "Create intermediate/boundary event": "创建中间事件",
  "Create pool/participant": "创建池",
  "Create expanded sub-process": "创建子流程",
  "Create group": "创建分组",
  "Create data object reference": "创建数据对象",
  "Create data store reference": "创建数据存储",
  "Search in diagram": "在图中搜索",
  "Must be a valid QName.": "须为有效的 QName。",
  "ID must not be empty.": "ID 不能为空。",
  "ID must be unique.": "ID 不能与其他元素重复。",
  "ID must not contain spaces.": "ID 不能包含空格。",
  "ID must be a valid QName.": "ID 须为有效的 QName。",
  "ID must not contain prefix.": "ID 不能包含前缀。"
};

function translate(template, replacements) {
  replacements = replacements || {};
  template = ZH[template] || template;
  return template.replace(/{([^}]+)}/g, function (_, key) {
    return replacements[key] !== undefined ? replacements[key] : "{" + key + "}";
  });
}

export default { translate: ["value", translate] };
