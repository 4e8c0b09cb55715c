/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const openCollectionsApp = [
    stepUtils.showAppsMenuItem(),
    {
        content: "Open the Collections app",
        trigger: '.o_app[data-menu-xmlid="cobranza_mgmt.cobranza_menu_root"]',
        run: "click",
    },
    {
        content: "The app opens on the worklist",
        trigger: '.o_breadcrumb:contains("Worklist")',
    },
];

registry.category("web_tour.tours").add("cobranza_mgmt_collector_tour", {
    url: "/odoo",
    steps: () => [
        ...openCollectionsApp,
        {
            content: "Open the Collections section",
            trigger: '.o_menu_sections button:contains("Collections")',
            run: "click",
        },
        {
            content: "Open the overdue invoices",
            trigger: '.dropdown-item[data-menu-xmlid="cobranza_mgmt.account_move_menu_overdue"]',
            run: "click",
        },
        {
            content: "The overdue filter is applied",
            trigger: '.o_searchview_facet:contains("Overdue")',
        },
        {
            content: "The list is shown",
            trigger: '.o_breadcrumb:contains("Overdue Invoices")',
        },
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_manager_tour", {
    url: "/odoo",
    steps: () => [
        ...openCollectionsApp,
        {
            content: "Open the Configuration section",
            trigger: '.o_menu_sections button:contains("Configuration")',
            run: "click",
        },
        {
            content: "Open the collection stages",
            trigger: '.dropdown-item[data-menu-xmlid="cobranza_mgmt.cobranza_stage_menu"]',
            run: "click",
        },
        {
            content: "The default stages are listed",
            trigger: '.o_data_row:contains("Administrative")',
        },
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_profile_tour", {
    url: "/odoo/action-cobranza_mgmt.cobranza_credit_profile_action",
    steps: () => [
        {
            content: "Open the customer on hold",
            trigger: '.o_data_row:contains("Tour Customer On Hold") td.o_data_cell',
            run: "click",
        },
        {
            content: "The hold ribbon and the reason show",
            trigger: '.o_form_view .ribbon:contains("On Hold")',
        },
        {
            content: "The behaviour figures show",
            trigger: '.o_form_view .o_field_widget[name="risk_score"]',
        },
        {
            content: "Lift the hold",
            trigger: 'button[name="action_lift_hold"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The hold is gone",
            trigger: 'button[name="action_open_hold_wizard"]',
        },
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_partner_tab_tour", {
    // started on the customer's form by the test
    steps: () => [
        {
            content: "Open the Collections tab",
            trigger: '.o_notebook .nav-link:contains("Collections")',
            run: "click",
        },
        {
            content: "The hold reason shows on the tab",
            trigger: '.o_notebook .alert-danger:contains("Cheque devuelto")',
        },
        {
            content: "The segment shows",
            trigger: '.o_notebook .o_field_widget[name="cobranza_segment"]',
        },
    ],
});
