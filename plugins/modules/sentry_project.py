#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sentry_project
short_description: Ensure a GlitchTip or Sentry project, its team and organisation, and read its DSN
version_added: 0.2.0
description:
  - Ensures that an organisation, a team in it and a project in that team exist, each found by
    its slug and created when missing, and returns the project with its DSN.
  - Speaks the C(/api/0/) API that GlitchTip and Sentry share, with a bearer token.
  - Looks everything up before it creates anything, because creating is not idempotent on
    GlitchTip. A project whose name is taken becomes a second project with the slug
    C(<name>-2), an organisation whose slug is taken gets a random suffix, and a team slug that
    exists is answered with 500.
  - A project that exists keeps its slug and team. Its name is set to O(name) and, when
    O(platform) is given, its platform to O(platform), with C(PUT /api/0/projects/<org>/<slug>/)
    (GlitchTip's C(ProjectIn) accepts both).
  - With O(state=absent), deletes the project only; the team and the organisation stay.
  - "Requests: a call that changes nothing makes 4 GETs and nothing else: the organisation
    (C(/api/0/organizations/<org>/)), its teams (C(/api/0/organizations/<org>/teams/)), its
    projects (C(/api/0/organizations/<org>/projects/)) and the project's keys
    (C(/api/0/projects/<org>/<slug>/keys/)), plus one GET for each further page of a list with
    more than 50 entries (GlitchTip's page size; 100 on Sentry). With O(state=absent) and
    nothing to delete, 2 GETs (the organisation and its projects), or 1 when the organisation
    does not exist."
extends_documentation_fragment:
  - microops.stack.sentry
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
  - microops.stack.attributes
attributes:
  action_group:
    membership: [microops.stack.sentry]
  check_mode:
    support: full
    details: A project that would be created has no key yet, so RV(dsn) is empty in check mode.
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  organization:
    description:
      - Slug of the organisation, for example V(microops).
      - When it is missing it is created with this slug as its name, so it must be a slug that
        GlitchTip's slugify keeps as it is (lower-case letters, digits, C(_) and C(-)).
    type: str
    required: true
  team:
    description:
      - Slug of the team the project belongs to, created in the organisation when missing.
      - Required with O(state=present).
    type: str
  name:
    description:
      - Name of the project, for example V(Billing API).
      - Required with O(state=present). With O(state=absent), O(name) or O(slug) is required.
    type: str
  slug:
    description:
      - Slug of the project, which identifies it.
      - Defaults to the slug GlitchTip makes from O(name), with Django's C(slugify) rules
        (letters without accents, lower case; characters other than letters, digits, C(_), C(-)
        and spaces removed; runs of spaces and C(-) made one C(-); C(-) and C(_) stripped at
        both ends; cut to 50 characters; V(new) becomes V(new-1)). V(Billing API) gives
        V(billing-api), V(api.v2) gives V(apiv2).
      - GlitchTip ignores a slug sent with a new project and makes one from the name, so on
        GlitchTip a slug other than the default can only find an existing project; creating
        one fails (see the notes). Sentry uses the slug sent.
    type: str
  platform:
    description:
      - Platform of the project, for example V(python) or V(javascript-react).
      - When not given, the platform of an existing project is neither compared nor changed.
    type: str
  state:
    description:
      - V(present) ensures the organisation, the team and the project; V(absent) deletes the
        project.
    type: str
    choices: [present, absent]
    default: present
notes:
  - When the server gives a created organisation, team or project another slug than the one asked
    for (GlitchTip makes slugs from names and adds C(-2) or a random suffix when a slug is taken,
    also by a deleted project it has not purged yet), the module fails naming both slugs; the
    object exists then under the slug the server chose.
  - The DSN is the C(dsn.public) of the project's oldest active key, chosen by C(dateCreated)
    (GlitchTip lists keys newest first), so it stays the same when keys are added. Keys that are
    not active are skipped; without an active key RV(dsn) is empty and the module warns.
  - GlitchTip answers a write without a valid token with 403 C(CSRF check Failed) (a read with
    401); the module's error message says that the token was not accepted.
  - Errors name the object and carry the server's C(detail).
  - A project that exists in another team than O(team) is left there, with a warning.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: A project for every service, with the connection set once
  module_defaults:
    group/microops.stack.sentry:
      api_url: http://10.0.0.7:8000
      api_token: "{{ glitchtip_api_token }}"
  block:
    - name: Billing API project
      microops.stack.sentry_project:
        organization: microops
        team: services
        name: Billing API
        platform: python
      register: billing

    - name: Show the DSN
      ansible.builtin.debug:
        msg: "{{ billing.dsn }}"

- name: Remove a project (its team and organisation stay)
  microops.stack.sentry_project:
    api_url: https://sentry.example.org
    api_token: "{{ sentry_auth_token }}"
    organization: microops
    slug: old-service
    state: absent
"""

RETURN = r"""
project:
  description:
    - The project after the task. In check mode, the project as it would be (RV(project.id) is
      null for one that would be created). Empty with O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the project, as a string; the last part of its DSN.
      type: str
      sample: "3"
    slug:
      description: Slug of the project.
      type: str
      sample: billing-api
    name:
      description: Name of the project.
      type: str
      sample: Billing API
    platform:
      description: Platform of the project, null when it has none.
      type: str
      sample: python
    team:
      description: Slug of the team O(team).
      type: str
      sample: services
    teams:
      description: Slugs of every team the project belongs to.
      type: list
      elements: str
      sample: [services]
    organization:
      description: Slug of the organisation.
      type: str
      sample: microops
  sample:
    id: "3"
    slug: billing-api
    name: Billing API
    platform: python
    team: services
    teams: [services]
    organization: microops
dsn:
  description:
    - C(dsn.public) of the project's oldest active key, the DSN its services send events to. The
      host in it is the server's own setting (GlitchTip's C(GLITCHTIP_DOMAIN)), not O(api_url).
    - Empty with O(state=absent), in check mode for a project that would be created, and when the
      project has no active key.
  returned: always
  type: str
  sample: http://0123456789abcdef0123456789abcdef@10.0.0.7:8000/3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microops.stack.plugins.module_utils._http import HttpError, path_quote
from ansible_collections.microops.stack.plugins.module_utils._sentry import (
    SentryError,
    key_dsn,
    oldest_active_key,
    organization_slug_error,
    project_slug_error,
    sentry_argument_spec,
    sentry_client,
    slug_of_name,
    team_slug_error,
)


def find(items, slug):
    for item in items or []:
        if isinstance(item, dict) and item.get("slug") == slug:
            return item
    return None


def team_slugs(project):
    return [team.get("slug") for team in project.get("teams") or [] if isinstance(team, dict)]


def project_view(project):
    """The project as diffs show it: the fields this module manages."""
    if not project:
        return None
    return dict((field, project.get(field)) for field in ("slug", "name", "platform"))


class Sentry:
    """The API calls of this module in one organisation; call() is the one place errors are worded."""

    def __init__(self, client, organization):
        self.client = client
        self.org = organization
        self.org_path = "api/0/organizations/%s/" % path_quote(organization)
        self.org_label = "organization %r" % organization

    def call(self, label, method, path, body=None, allow=()):
        try:
            return self.client.request(method, path, body=body, allow=allow)
        except HttpError as exc:
            raise SentryError("%s: %s" % (label, exc)) from exc

    def get_all(self, label, path):
        try:
            return self.client.get_all(path)
        except HttpError as exc:
            raise SentryError("%s: %s" % (label, exc)) from exc

    def team_label(self, team):
        return "team %r in organization %r" % (team, self.org)

    def project_label(self, slug):
        return "project %r in organization %r" % (slug, self.org)

    def project_path(self, slug):
        return "api/0/projects/%s/%s/" % (path_quote(self.org), path_quote(slug))

    # apps/organizations_ext/api.py get_organization: 404 when missing or the user is no member.
    def organization(self):
        status, data, dummy = self.call(self.org_label, "GET", self.org_path, allow=(404,))
        return None if status == 404 else (data or {})

    # create_organization: 201 with the organisation; its slug is made from the name.
    def create_organization(self):
        dummy, data, dummy_headers = self.call(self.org_label, "POST", "api/0/organizations/",
                                               body={"name": self.org, "slug": self.org})
        return check_slug(self.org_label, "organization", data, self.org)

    # apps/teams/api.py list_teams (paginated).
    def teams(self):
        return self.get_all(self.org_label, self.org_path + "teams/")

    # create_team: TeamIn {slug}; a slug that exists is an IntegrityError, answered with 500.
    def create_team(self, team):
        label = self.team_label(team)
        try:
            dummy, data, dummy_headers = self.client.request("POST", self.org_path + "teams/", body={"slug": team})
        except HttpError as exc:
            hint = ""
            if exc.status == 500:
                hint = " (GlitchTip answers 500 when a team with that slug exists; it was not listed a moment ago)"
            raise SentryError("%s: %s%s" % (label, exc, hint)) from exc
        return check_slug(label, "team", data, team)

    # apps/projects/api.py list_organization_projects (paginated, with each project's teams).
    def projects(self):
        return self.get_all(self.org_label, self.org_path + "projects/")

    # create_project: ProjectIn {name, slug, platform}; GlitchTip makes the slug from the name.
    def create_project(self, team, body):
        label = self.project_label(body["slug"])
        path = "api/0/teams/%s/%s/projects/" % (path_quote(self.org), path_quote(team))
        dummy, data, dummy_headers = self.call(label, "POST", path, body=body)
        return check_slug(label, "project", data, body["slug"], named=body["name"])

    # update_project: the fields sent are set; ProjectIn needs the name.
    def update_project(self, slug, body):
        dummy, data, dummy_headers = self.call(self.project_label(slug), "PUT", self.project_path(slug), body=body)
        return data if isinstance(data, dict) else {}

    # delete_project: 204; GlitchTip marks the project deleted and purges it later.
    def delete_project(self, slug):
        self.call(self.project_label(slug), "DELETE", self.project_path(slug))

    # list_project_keys (paginated; no order_by, so the pagination's default: newest first).
    def keys(self, slug):
        return self.get_all(self.project_label(slug), self.project_path(slug) + "keys/")


def check_slug(label, kind, data, wanted, named=None):
    if not isinstance(data, dict):
        raise SentryError("%s: the server's answer to the create request is not an object: %r" % (label, data))
    got = data.get("slug")
    if got != wanted:
        why = "GlitchTip makes slugs from names and adds a suffix when the slug is taken"
        if kind == "project":
            why += (" (-2, -3, ... also for a deleted project it has not purged yet); it ignores the slug sent,"
                    " so it made %r from the name %r" % (slug_of_name(named), named))
        elif kind == "organization":
            why += ", also by an organisation the token's user is not a member of"
        raise SentryError("%s: created, but the server gave the new %s the slug %r instead of %r (%s). The %s %r"
                          " exists now: rename or delete it" % (label, kind, got, wanted, why, kind, got))
    return data


def public(project, organization, team):
    if not project:
        return {}
    teams = team_slugs(project) or ([team] if team else [])
    project_id = project.get("id")
    return dict(id=None if project_id is None else str(project_id), slug=project.get("slug"),
                name=project.get("name"), platform=project.get("platform"), team=team, teams=teams,
                organization=organization)


def choose_dsn(module, api, slug):
    key = oldest_active_key(api.keys(slug))
    dsn = key_dsn(key)
    if not dsn:
        module.warn("%s has no active key with a DSN: dsn is empty" % api.project_label(slug))
    return dsn


def ensure_present(module, api, slug):
    params = module.params
    team_slug, name, platform = params["team"], params["name"], params["platform"]
    check = module.check_mode
    changed = False
    before = dict(organization=None, team=None, project=None)

    org = api.organization()
    if org is None:
        changed = True
        if not check:
            api.create_organization()
        teams, projects = [], []
    else:
        before["organization"] = api.org
    if org is not None or not check:
        teams = api.teams()
        projects = api.projects()

    team = find(teams, team_slug)
    if team is None:
        changed = True
        if not check:
            api.create_team(team_slug)
    else:
        before["team"] = team_slug

    desired = dict(name=name, slug=slug)
    if platform is not None:
        desired["platform"] = platform
    project = find(projects, slug)
    before["project"] = project_view(project)
    if project is None:
        changed = True
        if check:
            after_project = dict(desired, id=None, platform=platform, teams=[{"slug": team_slug}])
            return changed, before, after_project, ""
        project = dict(api.create_project(team_slug, desired), teams=[{"slug": team_slug}])
    else:
        if team_slug not in team_slugs(project):
            module.warn("%s belongs to the teams %s, not to %r: left there"
                        % (api.project_label(slug), ", ".join(team_slugs(project)) or "(none)", team_slug))
        updates = dict((field, value) for field, value in desired.items()
                       if field != "slug" and project.get(field) != value)
        if updates:
            changed = True
            predicted = dict(project, **updates)
            if check:
                project = predicted
            else:
                # GlitchTip's ProjectIn requires the name, so it is always sent.
                answer = api.update_project(slug, dict(updates, name=name))
                project = dict(predicted, **dict((k, answer[k]) for k in ("name", "platform") if k in answer))
    return changed, before, project, choose_dsn(module, api, slug)


def ensure_absent(module, api, slug):
    before = dict(organization=None, project=None)
    if api.organization() is None:
        return False, before, dict(before)
    before["organization"] = api.org
    project = find(api.projects(), slug)
    if project is None:
        return False, before, dict(before)
    before["project"] = project_view(project)
    if not module.check_mode:
        api.delete_project(slug)
    return True, before, dict(before, project=None)


def input_errors(params):
    errors = [organization_slug_error(params["organization"])]
    if params["state"] == "present":
        errors.append(team_slug_error(params["team"]))
        if not (params["name"] or "").strip():
            errors.append("name must not be empty")
    if params["slug"] is not None:
        errors.append(project_slug_error(params["slug"]))
    elif (params["name"] or "").strip() and not slug_of_name(params["name"]):
        errors.append("name %r gives an empty slug: set slug" % params["name"])
    return [error for error in errors if error]


def main():
    argument_spec = sentry_argument_spec()
    argument_spec.update(
        organization=dict(type="str", required=True),
        team=dict(type="str"),
        name=dict(type="str"),
        slug=dict(type="str"),
        platform=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ("team", "name")), ("state", "absent", ("name", "slug"), True)],
        supports_check_mode=True,
    )
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    slug = params["slug"] or slug_of_name(params["name"])
    api = Sentry(sentry_client(params), params["organization"])

    try:
        if params["state"] == "absent":
            changed, before, after = ensure_absent(module, api, slug)
            result = dict(changed=changed, project={}, dsn="")
        else:
            changed, before, project, dsn = ensure_present(module, api, slug)
            after = dict(organization=api.org, team=params["team"], project=project_view(project))
            result = dict(changed=changed, project=public(project, api.org, params["team"]), dsn=dsn)
    except SentryError as exc:
        module.fail_json(msg=str(exc))

    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
