"""Accounts: creating users with hashed passwords, logging in, and throttling repeated failures.

Who may create whom (DESIGN §1), read from the BPMN rather than named here: the review levels of
the process definition are ordered (first = 二级, last = the school-wide 中心). An account may
create accounts only for levels *earlier* than its own, inside its own school and its own
college/major scope, never the school-wide role and never admin. The admin (a web session) may
create any review level of any school, but never another admin: admin accounts come only from the
command line (`gradflow user add --role admin`, creator=None). Students create their own accounts
by binding. The province account (省级, PROVINCE_ROLE) is like admin a role of the deployment: only
the command line creates it (`gradflow user add --role province`), and it belongs to no school.
The rule lives here so the page, any API and the CLI all pass through it.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.db import write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.models import College, Major, School, User, UserScope
from service.services import processes
from service.services.accounts.passwords import check_password_strength, hash_password
from service.services.actors import ADMIN_ROLE, DEPLOYMENT_ROLES, PROVINCE_ROLE, Actor
from service.validation.text import normalise_code
from service.workflow.definitions import ProcessDefinition


def creatable_roles(creator: Actor | None, definition: ProcessDefinition) -> list[str]:
    """The roles `creator` may hand out (see the module docstring); creator=None is the CLI operator."""
    levels = list(dict.fromkeys(definition.reviewer_roles))
    if creator is None:
        return [*dict.fromkeys(definition.roles), *DEPLOYMENT_ROLES]
    if creator.is_admin:
        return levels
    if creator.role not in levels:
        return []
    below = levels[:levels.index(creator.role)]
    return [r for r in below if r != definition.school_wide_role]


def definition_for_role(role: str, school_code: str | None) -> ProcessDefinition:
    """The definition an account's role is checked against: the school's active version when it has
    the role, else the newest deployed version that has it. Accounts for the levels of a version not
    yet active can so exist before activation, and records never wait at a level nobody can review."""
    current = processes.active_definition(school_code)[1]
    if role in DEPLOYMENT_ROLES or role in current.roles:
        return current
    for candidate in [*processes.definitions_in_use(school_code), *processes.deployed_definitions()]:
        if role in candidate.roles:
            return candidate
    return current


def account_roles(creator: Actor, school_code: str | None) -> list[tuple[str, str]]:
    """(role, label) the creator may hand out in the school, over its active version and every
    deployed one (the active version's roles first)."""
    found: dict[str, str] = {}
    current = processes.active_definition(school_code)[1]
    for candidate in [current, *processes.definitions_in_use(school_code), *processes.deployed_definitions()]:
        for role in creatable_roles(creator, candidate):
            found.setdefault(role, candidate.role_label(role))
    return list(found.items())


def _check_creator(creator: Actor | None, role: str, school_code: str | None, colleges: Sequence[str],
                   majors: Sequence[str], definition: ProcessDefinition) -> None:
    """Refuse (403) a role above the creator's reach, another school, or grants beyond its own scope."""
    if creator is None:
        return
    if role == ADMIN_ROLE:
        raise PermissionDenied("管理员账号只能由运维人员在命令行创建", code="role_not_allowed")
    if role == PROVINCE_ROLE:
        raise PermissionDenied("省级账号只能由运维人员在命令行创建", code="role_not_allowed")
    allowed = creatable_roles(creator, definition)
    if role not in allowed:
        names = "、".join(definition.role_label(r) for r in allowed) or "无"
        raise PermissionDenied(f"您无权创建“{definition.role_label(role)}”账号（可创建：{names}）",
                               code="role_not_allowed")
    if creator.is_admin:
        return
    if school_code != creator.school_code:
        raise PermissionDenied("只能为本校创建账号", code="school_not_allowed")
    if creator.restricted:
        if not colleges and not majors:
            raise PermissionDenied("您只能创建管辖范围在您自己范围之内的账号，请选择院系或专业", code="scope_not_allowed")
        in_colleges = {c.name for c in College.select().where(College.id.in_(sorted(creator.college_ids)))}
        for name in colleges:
            if name not in in_colleges:
                raise PermissionDenied(f"院系 {name} 不在您的管辖范围内", code="scope_not_allowed")
        for code in majors:
            found = Major.select().where((Major.school == school_code) & ((Major.code == code) | (Major.name == code)))
            if not all(m.id in creator.major_ids or m.college_id in creator.college_ids for m in found):
                raise PermissionDenied(f"专业 {code} 不在您的管辖范围内", code="scope_not_allowed")


def _require_scope_choice(creator: Actor | None, role: str, colleges: Sequence[str], majors: Sequence[str],
                          definition: ProcessDefinition) -> None:
    """A review level below the school-wide one needs at least one college or major: an empty choice
    used to mean the whole school, silently. The operator at the command line (creator=None) is
    exempt: it names grants explicitly with --college/--major and may mean a whole-school account."""
    if creator is None or colleges or majors:
        return
    if role in definition.reviewer_roles and role != definition.school_wide_role:
        message = f"“{definition.role_label(role)}”账号须至少选择一个院系或专业作为管辖范围"
        raise InvalidInput(message, code="scope_required", details={"college": [message]})


def create_user(username: str, password: str, role: str, *, school_code: str | None, creator: Actor | None,
                allowed_roles: Sequence[str] | None = None, colleges: Sequence[str] = (),
                majors: Sequence[str] = (), display_name: str = "",
                definition: ProcessDefinition | None = None) -> User:
    """Create an account whose role is a BPMN lane role or admin, with its grants.

    `creator` is who asks (None only for the operator at the command line); the rule of
    creatable_roles applies to everyone else. `allowed_roles` may narrow the choice further.
    """
    if definition is None:
        definition = definition_for_role(role, school_code)
    lanes = list(dict.fromkeys(definition.roles))
    username = normalise_code(username)
    if not username:
        raise InvalidInput("请填写用户名", details={"username": ["必填"]})
    if role not in DEPLOYMENT_ROLES and role not in lanes:
        raise InvalidInput(f"角色 {role} 不在流程的泳道中（可选：{', '.join(lanes + list(DEPLOYMENT_ROLES))}）",
                           code="unknown_role")
    _check_creator(creator, role, school_code, colleges, majors, definition)
    if allowed_roles is not None and role not in allowed_roles:
        raise PermissionDenied(f"此处不能创建“{definition.role_label(role)}”账号", code="role_not_allowed")
    check_password_strength(password, username)
    _require_scope_choice(creator, role, colleges, majors, definition)
    school = None
    if role == PROVINCE_ROLE and (school_code or colleges or majors):
        raise InvalidInput("省级账号不属于任何学校，不能指定学校、院系或专业", code="school_not_allowed",
                           details={"school_code": ["省级账号不属于任何学校"]})
    if school_code:
        school = School.get_or_none(School.code == school_code)
        if school is None:
            raise NotFound(f"学校 {school_code} 不存在", code="school_not_found")
    elif role not in DEPLOYMENT_ROLES:
        raise InvalidInput("非管理员、非省级账号必须属于一所学校", code="school_required")
    with write_transaction():
        if User.select().where((User.username == username) & (User.school == school)).exists():
            raise InvalidInput(f"用户 {username} 已存在", code="user_exists")
        user = User.create(username=username, password_hash=hash_password(password), role=role, school=school,
                           display_name=display_name or username)
        for name in colleges:
            college = College.get_or_none((College.school == school) & (College.name == name))
            if college is None:
                raise NotFound(f"院系 {name} 不存在", code="college_not_found")
            UserScope.create(user=user, college=college)
        for code in majors:
            found = list(Major.select().where((Major.school == school) & ((Major.code == code) | (Major.name == code))))
            if not found:
                raise NotFound(f"专业 {code} 不存在", code="major_not_found")
            for major in found:
                UserScope.create(user=user, major=major)
    return user
