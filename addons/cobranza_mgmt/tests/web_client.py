"""The web client's own calls, made over HTTP as one logged-in user: the click-through tests' driver.

A screen is opened as Odoo 18's web client opens it: ``/web/webclient/load_menus``, then
``/web/action/load`` for the menu's action, ``get_views`` with the action's views, the default
filters of its context read from the search view, ``web_search_read`` / ``web_read_group`` /
``read_group`` for the first view, ``web_read`` of a record with the form's fields, ``onchange``
for a new record, ``web_save`` then ``/web/dataset/call_button`` for a wizard's confirm button.
Buttons are found in the arch the server sends to that user (groups already applied) and pressed
when their ``invisible`` expression is false for the record, as the client shows them.

Every server answer is kept: an error that is neither a UserError nor a ValidationError (a
traceback, an AccessError on something the screen offers) is a defect, listed by ``problems``.
"""
import base64
import datetime
import json
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

CLEAN_REFUSALS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.RedirectWarning",
    "odoo.addons.web.controllers.action.MissingActionError",
}
RELATIONAL = {"many2one", "one2many", "many2many"}


def top_fields(arch_node, fields_info):
    """(node, name, field description) of the fields of a view, not those of its x2many sub-views."""
    for node in arch_node.iter("field"):
        if not any(ancestor.tag == "field" for ancestor in node.iterancestors()):
            yield node, node.get("name"), fields_info.get(node.get("name"), {})


class ServerError(Exception):
    def __init__(self, name, message, debug=""):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.debug = debug

    @property
    def clean(self):
        return self.name in CLEAN_REFUSALS


class WebClient:
    """One user's browser session: what it calls, and what went wrong on the way."""

    def __init__(self, case, login, password=None):
        self.case = case
        self.login = login
        case.authenticate(login, password or login)
        self.user = case.env["res.users"].search([("login", "=", login)])
        self.context = {
            "lang": self.user.lang or "en_US", "tz": self.user.tz or "UTC", "uid": self.user.id,
            "allowed_company_ids": [self.user.company_id.id],
        }
        self.problems = []
        self.refusals = []
        self.calls = 0

    # ------------------------------------------------------------------ transport
    def rpc(self, route, params):
        self.calls += 1
        payload = json.dumps({"id": self.calls, "jsonrpc": "2.0", "method": "call", "params": params})
        response = self.case.url_open(route, data=payload, headers={"Content-Type": "application/json"}, timeout=120)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            data = answer["error"].get("data") or {}
            raise ServerError(data.get("name", "?"), data.get("message", answer["error"].get("message")),
                              data.get("debug", ""))
        return answer.get("result")

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        return self.rpc(f"/web/dataset/call_kw/{model}/{method}",
                        {"model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def button(self, model, method, ids, context=None):
        return self.rpc(f"/web/dataset/call_button/{model}/{method}", {
            "model": model, "method": method, "args": [ids], "kwargs": {"context": context or self.context},
        })

    def try_(self, where, function, *args, **kwargs):
        """Call; a clean refusal is noted, any other error is a problem. None when it failed."""
        try:
            return function(*args, **kwargs)
        except ServerError as error:
            (self.refusals if error.clean else self.problems).append((where, error))
            return None

    def menus(self):
        response = self.case.url_open("/web/webclient/load_menus/test")
        response.raise_for_status()
        return response.json()

    def app_menus(self, xmlid):
        """The menu items of an app as this user's menu bar shows them: (path of names, menu) per item."""
        menus = self.menus()
        root = next((menu for menu in menus.values() if menu.get("xmlid") == xmlid), None)
        found = []

        def walk(menu, path):
            for child_id in menu["children"]:
                child = menus[str(child_id)]
                child_path = f"{path} / {child['name']}"
                if child.get("actionID"):
                    found.append((child_path, child))
                walk(child, child_path)

        if root:
            walk(root, root["name"])
        return root, found

    # ------------------------------------------------------------------ actions and views
    def load_action(self, action_id, context=None):
        return self.rpc("/web/action/load", {"action_id": action_id, "context": context or self.context})

    def eval_context(self, **extra):
        return {
            "uid": self.user.id, "context": dict(self.context), "user": self.user,
            "allowed_company_ids": self.context["allowed_company_ids"],
            "current_company_id": self.context["allowed_company_ids"][0],
            "context_today": datetime.date.today, "datetime": safe_datetime, "relativedelta": relativedelta,
            "time": safe_time, "active_id": False, "active_ids": [], "active_model": False,
            **extra,
        }

    def action_context(self, action, **extra):
        value = action.get("context") or {}
        if isinstance(value, str):
            value = safe_eval(value, self.eval_context(**extra))
        return {**self.context, **value}

    def action_domain(self, action, context):
        value = action.get("domain") or []
        if isinstance(value, str):
            value = safe_eval(value, self.eval_context(context=context))
        return value

    def get_views(self, model, views, context, action_id=False, search_view_id=False):
        views = [[view_id, view_type] for view_id, view_type in views]
        if not any(view_type == "search" for __, view_type in views):
            views.append([search_view_id, "search"])
        return self.call(model, "get_views", views=views, options={
            "action_id": action_id, "load_filters": True, "toolbar": True,
        }, context=context)

    def default_search(self, search_arch, context):
        """Domain and group-by of the search view's filters that the context switches on
        (``search_default_*``), as the search bar applies them when the action opens."""
        domain, group_by = [], []
        if not search_arch:
            return domain, group_by
        arch = etree.fromstring(search_arch)
        for key, value in context.items():
            if not key.startswith("search_default_") or not value:
                continue
            name = key[len("search_default_"):]
            node = arch.find(f".//filter[@name='{name}']")
            if node is not None:
                if node.get("domain"):
                    domain += safe_eval(node.get("domain"), self.eval_context(context=context))
                if node.get("context"):
                    filter_context = safe_eval(node.get("context"), self.eval_context(context=context))
                    if filter_context.get("group_by"):
                        group_by.append(filter_context["group_by"])
                continue
            node = arch.find(f".//field[@name='{name}']")
            if node is not None:
                if node.get("filter_domain"):
                    domain += safe_eval(node.get("filter_domain"), self.eval_context(self=value, context=context))
                else:
                    domain.append((name, "=", value))
        return domain, group_by

    # ------------------------------------------------------------------ records
    @staticmethod
    def specification(arch_node, fields_info):
        """What the client asks for a view: every field of the arch, relations with their display name
        and, for an x2many shown inline, the fields of its sub-view."""
        spec = {}
        for node, name, info in top_fields(arch_node, fields_info):  # a sub-view's fields come through its x2many
            if info.get("type") == "many2one":
                spec[name] = {"fields": {"display_name": {}}}
            elif info.get("type") in ("one2many", "many2many"):
                sub = next((child for child in node if child.tag in ("list", "kanban", "form")), None)
                sub_fields = {}
                if sub is not None:
                    for sub_node in sub.iter("field"):
                        sub_fields[sub_node.get("name")] = {}
                spec[name] = {"fields": sub_fields or {"display_name": {}}}
            else:
                spec[name] = {}
        return spec

    @staticmethod
    def fields_info(views_answer, model):
        models = views_answer["models"]
        info = models[model]
        return info.get("fields", info) if isinstance(info, dict) else info

    def eval_values(self, record, fields_info):
        """A record's values as the client's expressions see them (many2one: its id; x2many: ids)."""
        values = {}
        for name, value in (record or {}).items():
            kind = fields_info.get(name, {}).get("type")
            if kind == "many2one":
                values[name] = value["id"] if isinstance(value, dict) else (value or False)
            elif kind in ("one2many", "many2many"):
                values[name] = self.x2many_ids(value)
            else:
                values[name] = value
        for name in fields_info:
            values.setdefault(name, False)
        return values

    def is_readonly(self, node, info, values, context):
        """Whether the client leaves the field out of what it saves (readonly and not force_save)."""
        if node.get("force_save") in ("1", "True", "true"):
            return False
        expression = node.get("readonly")
        if expression is None:
            return bool(info.get("readonly"))
        try:
            return bool(safe_eval(expression, {**self.eval_context(context=context), **values}))
        except Exception:  # noqa: BLE001 - an expression the values cannot answer: editable, as the client shows it
            return False

    def changes(self, arch_node, fields_info, record, context):
        """What ``web_save`` receives for a new record: every field of the form the user could edit,
        with the value the form shows (defaults and onchange results)."""
        values = self.eval_values(record, fields_info)
        changes = {}
        for node, name, info in top_fields(arch_node, fields_info):
            if name not in record or self.is_readonly(node, info, values, context):
                continue
            value = record[name]
            if info.get("type") == "many2one":
                value = value["id"] if isinstance(value, dict) else value
            elif info.get("type") == "many2many":
                value = [(6, 0, values[name])]
            elif info.get("type") == "one2many":
                continue  # the client sends its rows as commands; the walk leaves inline rows as given
            changes[name] = value
        return changes

    @staticmethod
    def x2many_ids(value):
        """The ids an x2many holds, whether read (dicts or ids) or sent by onchange (commands)."""
        ids = []
        for item in value or []:
            if isinstance(item, dict):
                ids.append(item["id"])
            elif isinstance(item, (list, tuple)):
                if item[0] == 6:
                    ids = list(item[2])
                elif item[0] in (1, 4) and isinstance(item[1], int):
                    ids.append(item[1])
            else:
                ids.append(item)
        return ids

    def is_visible(self, node, values, context):
        for attribute in ("invisible", "column_invisible"):
            expression = node.get(attribute)
            if not expression:
                continue
            try:
                if safe_eval(expression, {**self.eval_context(context=context), **values, "parent": values}):
                    return False
            except Exception:  # noqa: BLE001 - an expression on fields the record lacks: the client hides it
                return False
        return True

    def filled_required(self, arch_node, fields_info, values, model):
        """Values for the required fields a user would have to fill in: the first record they may
        pick, today, one, a word; the defaults stay as the form gave them."""
        filled = {}
        for node, name, info in top_fields(arch_node, fields_info):
            required = info.get("required") or node.get("required") in ("1", "True", "true")
            if not required or values.get(name) not in (False, None, "", []) or node.get("readonly") == "1":
                continue
            kind = info.get("type")
            if kind == "many2one":
                found = self.call(info["relation"], "name_search", name="", args=[], limit=1)
                if found:
                    filled[name] = found[0][0]
            elif kind == "date":
                filled[name] = datetime.date.today().isoformat()
            elif kind == "datetime":
                filled[name] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            elif kind in ("integer", "float", "monetary"):
                filled[name] = 1
            elif kind == "selection":
                filled[name] = info["selection"][0][0]
            elif kind in ("char", "text", "html"):
                filled[name] = "Prueba"
            elif kind == "binary":
                filled[name] = base64.b64encode(b"Fecha,Importe,Referencia\n2026-12-01,100,INV/1\n").decode()
        return filled


@dataclass
class Screen:
    """One opened view: where it was reached from (for the report), its model, the views the server
    sent for it (arch per type), its fields and the context it runs in."""

    where: str
    model: str
    views: dict
    fields_info: dict
    context: dict
    depth: int = 0


class Walker:
    """Opens every menu item of an app as the client does, each record's form, and presses the
    buttons the user sees; wizards are filled and confirmed. ``module`` buttons only on the
    models of other modules (Odoo's own invoice buttons are Odoo's to test)."""

    MAX_DEPTH = 2

    def __init__(self, client, module):
        self.client = client
        self.env = client.case.env
        self.module = module
        self.opened, self.pressed, self.saved, self.rows = [], [], [], {}

    def own_model(self, model):
        return model.startswith("cobranza.")

    def module_button(self, node):
        name = node.get("name") or ""
        if node.get("type") != "action":
            return "cobranza" in name
        if not name.isdigit():
            return name.startswith(f"{self.module}.")
        return bool(self.env["ir.model.data"].search_count([
            ("module", "=", self.module), ("model", "like", "ir.actions."), ("res_id", "=", int(name)),
        ]))

    def walk_app(self, menu_xmlid):
        """Every menu item of the app: its action loaded and opened. Returns (root, menu paths)."""
        client = self.client
        root, items = client.app_menus(menu_xmlid)
        for path, menu in items:
            action = client.try_(path, client.load_action, menu["actionID"])
            if not action:
                continue
            if action["type"] == "ir.actions.act_window":
                self.open_action(path, action)
            elif action["type"] == "ir.actions.client":
                self.opened.append(path)
        return root, [path for path, __ in items]

    # ------------------------------------------------------------------ buttons
    def press(self, screen, record_id, node):
        client = self.client
        name, kind = node.get("name"), node.get("type")
        label = f"{screen.where} [{node.get('string') or name}]"
        context = {**screen.context, **self.button_context(node, screen, record_id)}
        active = {"active_id": record_id, "active_ids": [record_id] if record_id else [], "active_model": screen.model}
        context.update(active)
        if kind == "object":
            result = client.try_(label, client.button, screen.model, name, [record_id] if record_id else [], context)
        else:
            result = client.try_(label, client.load_action, int(name) if name.isdigit() else name, context)
        self.pressed.append(label)
        if isinstance(result, dict) and result.get("type") == "ir.actions.act_window" and screen.depth < self.MAX_DEPTH:
            self.open_action(label, result, screen.depth + 1, active)

    def button_context(self, node, screen, record_id):
        """The button's own context; one that reads the record's fields is left out (the client would
        fill them in; the button runs with the view's context)."""
        if not node.get("context"):
            return {}
        try:
            return safe_eval(node.get("context"), self.client.eval_context(
                context=screen.context, active_id=record_id, id=record_id))
        except Exception:  # noqa: BLE001 - see the docstring
            return {}

    def visible_buttons(self, screen, arch, values, own_only=False):
        """The header, box and sheet buttons of a form (or a list's row buttons) the user sees."""
        for node in arch.iter("button"):
            if node.get("special") or node.get("type") not in ("object", "action"):
                continue
            if arch.tag == "form" and any(ancestor.tag == "field" for ancestor in node.iterancestors()):
                continue  # an x2many row's button: pressed where its list opens
            if (own_only or not self.own_model(screen.model)) and not self.module_button(node):
                continue
            if self.client.is_visible(node, values, screen.context):
                yield node

    # ------------------------------------------------------------------ forms
    def read_form(self, screen, arch, record_id):
        """The record as the form shows it: web_read of a saved one, onchange (defaults) of a new one."""
        client = self.client
        spec = client.specification(arch, screen.fields_info)
        if record_id:
            records = client.try_(f"{screen.where} web_read", client.call, screen.model, "web_read", [record_id],
                                  specification=spec, context=screen.context)
            return records[0] if records else None
        answer = client.try_(f"{screen.where} onchange", client.call, screen.model, "onchange", [], {}, [], spec,
                             context=screen.context)
        return None if answer is None else answer.get("value", {})

    def save_wizard(self, screen, arch, record, values):
        """Fill the required fields a user must fill, save as the client does (and, for the settings,
        apply them); the new record's id, or None when refused."""
        client = self.client
        filled = client.filled_required(arch, screen.fields_info, values, screen.model)
        changes = {**client.changes(arch, screen.fields_info, record, screen.context), **filled}
        saved = client.try_(f"{screen.where} web_save", client.call, screen.model, "web_save", [], changes,
                            specification={"display_name": {}}, context=screen.context)
        if not saved:
            return None
        values.update(filled)
        self.saved.append(screen.where)
        if screen.model == "res.config.settings":
            client.try_(f"{screen.where} [Save]", client.button, screen.model, "execute", [saved[0]["id"]],
                        screen.context)
            self.pressed.append(f"{screen.where} [Save]")
        return saved[0]["id"]

    def open_form(self, screen, record_id, *, wizard=False, own_only=False):
        arch = etree.fromstring(screen.views["form"]["arch"])
        record = self.read_form(screen, arch, record_id)
        if record is None:
            return
        values = self.client.eval_values(record, screen.fields_info)
        if not record_id and wizard:
            record_id = self.save_wizard(screen, arch, record, values)
        if not record_id:
            return
        for node in list(self.visible_buttons(screen, arch, values, own_only)):
            self.press(screen, record_id, node)

    # ------------------------------------------------------------------ window actions
    def open_action(self, where, action, depth=0, active=None):
        client = self.client
        context = {**client.action_context(action, **(active or {})), **(active or {})}
        model = action["res_model"]
        views = action.get("views") or [[False, mode] for mode in action.get("view_mode", "list,form").split(",")]
        search_view = action.get("search_view_id") or [False]
        answer = client.try_(f"{where} get_views", client.get_views, model, views, context, action.get("id") or False,
                             search_view[0] if isinstance(search_view, list) else search_view)
        if not answer:
            return
        self.opened.append(where)
        screen = Screen(where, model, answer["views"], client.fields_info(answer, model), context, depth)
        wizard = action.get("target") in ("new", "inline") or self.env[model]._transient
        if views[0][1] == "form" or action.get("res_id"):
            self.open_form(screen, action.get("res_id") or False, wizard=wizard and not action.get("res_id"))
            return
        domain = client.action_domain(action, context)
        search_domain, group_by = client.default_search(screen.views.get("search", {}).get("arch"), context)
        self.read_groups(screen, views[0][1], domain + search_domain, group_by)
        list_type = next((view_type for __, view_type in views if view_type in ("list", "kanban")), None)
        if list_type:
            self.open_list(screen, list_type, domain, search_domain, wizard)

    def read_groups(self, screen, first, domain, group_by):
        client = self.client
        if first in ("pivot", "graph"):
            arch = etree.fromstring(screen.views[first]["arch"])
            rows = [node.get("name") for node in arch.iter("field") if node.get("type") != "measure"] or group_by
            measures = [f"{node.get('name')}:sum" for node in arch.iter("field") if node.get("type") == "measure"]
            client.try_(f"{screen.where} read_group", client.call, screen.model, "read_group", domain,
                        measures or ["__count"], rows[:1] or ["create_date:month"], lazy=True, context=screen.context)
        if group_by:
            client.try_(f"{screen.where} web_read_group", client.call, screen.model, "web_read_group", domain,
                        ["__count"], group_by[:1], lazy=True, context=screen.context)

    def open_list(self, screen, list_type, domain, search_domain, wizard):
        """The list as it opens (default filters on; all the action lists when they leave nothing),
        its first row's buttons, that row's form, and a new record's form."""
        client = self.client
        arch = etree.fromstring(screen.views[list_type]["arch"])
        spec = client.specification(arch, screen.fields_info)
        records = []
        for label, search in (("web_search_read", domain + search_domain), ("web_search_read (all)", domain)):
            found = client.try_(f"{screen.where} {label}", client.call, screen.model, "web_search_read", search, spec,
                                limit=80, context=screen.context)
            records = (found or {}).get("records") or []
            if records:
                break
        self.rows[screen.where] = len(records)
        if records:
            row = Screen(f"{screen.where} (row)", screen.model, screen.views, screen.fields_info, screen.context,
                         screen.depth)
            for node in list(self.visible_buttons(row, arch, client.eval_values(records[0], screen.fields_info))):
                self.press(row, records[0]["id"], node)
        if "form" not in screen.views:
            return
        if records:
            self.open_form(Screen(f"{screen.where} > form", screen.model, screen.views, screen.fields_info,
                                  screen.context, screen.depth), records[0]["id"])
        form = etree.fromstring(screen.views["form"]["arch"])
        creatable = "0" not in (form.get("create"), arch.get("create")) and "false" not in (
            form.get("create"), arch.get("create"))
        if creatable and self.env[screen.model].with_user(client.user).has_access("create"):
            self.open_form(Screen(f"{screen.where} > new", screen.model, screen.views, screen.fields_info,
                                  screen.context, screen.depth), False, wizard=wizard)

    def report(self):
        """What the walk did, for a failing test's message or a curious reader."""
        lines = [f"{self.client.login}: {self.client.calls} calls; opened {len(self.opened)}, "
                 f"pressed {len(self.pressed)}, saved {len(self.saved)}"]
        lines += [f"  pressed {label}" for label in self.pressed]
        lines += [f"  rows {where}: {count}" for where, count in self.rows.items()]
        lines += [f"  refused {where}: {error.message[:150]}" for where, error in self.client.refusals]
        return "\n".join(lines)
