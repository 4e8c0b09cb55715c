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
        content: "The app opens on its overview",
        trigger: ".o_cobranza_overview .o_cobranza_card",
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

registry.category("web_tour.tours").add("cobranza_mgmt_agreement_tour", {
    // started on an overdue invoice by the test
    steps: () => [
        {
            content: "Start a payment agreement from the invoice",
            trigger: '.o_form_view .o_form_statusbar button:contains("Payment Agreement")',
            run: "click",
        },
        {
            content: "The wizard previews the schedule",
            trigger: ".modal .o_cobranza_schedule_preview tbody tr",
        },
        {
            content: "Create the agreement",
            trigger: '.modal-footer button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "The agreement opens in draft with its schedule",
            trigger: '.o_form_view .o_statusbar_status button.o_arrow_button_current:contains("Draft")',
        },
        {
            content: "Its installments are listed",
            trigger: '.o_form_view .o_field_widget[name="installment_ids"] .o_data_row',
        },
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_reporting_tour", {
    url: "/odoo",
    steps: () => [
        ...openCollectionsApp,
        {
            content: "Open the Reporting section",
            trigger: '.o_menu_sections button:contains("Reporting")',
            run: "click",
        },
        {
            content: "Open the aging analysis",
            trigger: '.dropdown-item[data-menu-xmlid="cobranza_mgmt.cobranza_aging_report_menu"]',
            run: "click",
        },
        {
            content: "The pivot shows the buckets",
            trigger: ".o_pivot .o_pivot_header_cell_closed, .o_pivot th",
        },
        {
            content: "Open the Reporting section again",
            trigger: '.o_menu_sections button:contains("Reporting")',
            run: "click",
        },
        {
            content: "Open the KPI trends",
            trigger: '.dropdown-item[data-menu-xmlid="cobranza_mgmt.cobranza_kpi_snapshot_menu"]',
            run: "click",
        },
        {
            content: "The KPI graph is shown",
            trigger: ".o_graph_view",
        },
        {
            content: "Open the Reporting section once more",
            trigger: '.o_menu_sections button:contains("Reporting")',
            run: "click",
        },
        {
            content: "Open the top debtors",
            trigger: '.dropdown-item[data-menu-xmlid="cobranza_mgmt.cobranza_top_debtors_menu"]',
            run: "click",
        },
        {
            content: "The top debtors graph is shown",
            trigger: '.o_breadcrumb:contains("Top Debtors")',
        },
    ],
});

/**
 * The overview as its user sees it. The test (test_overview.py) computes the expected figures from
 * the KPI model for the same period and hands them over in sessionStorage ("cobranza_overview_expected":
 * {cards: {key: text}, aging: {bucket: text}, work: {key: count}, debtors: [name], scope: text}).
 */
function expectText(selector, text, content) {
    return {
        content,
        trigger: selector,
        run() {
            const shown = this.anchor.textContent.trim();
            if (shown !== String(text)) {
                throw new Error(`${content}: shows "${shown}", expected "${text}"`);
            }
        },
    };
}

registry.category("web_tour.tours").add("cobranza_mgmt_overview_tour", {
    steps: () => {
        const expected = JSON.parse(sessionStorage.getItem("cobranza_overview_expected") || "{}");
        return [
            {
                content: "The Collections app opens on its overview",
                trigger: ".o_cobranza_overview .o_cobranza_card",
            },
            {
                content: "In the user's scope",
                trigger: `.o_cobranza_scope:contains("${expected.scope}")`,
            },
            ...Object.entries(expected.cards || {}).map(([key, text]) =>
                expectText(`.o_cobranza_card[data-key='${key}'] .o_cobranza_value`, text, `KPI ${key}`)
            ),
            ...Object.entries(expected.previous || {}).map(([key, text]) =>
                expectText(`.o_cobranza_card[data-key='${key}'] .o_cobranza_previous_value`, text, `previous ${key}`)
            ),
            ...Object.entries(expected.work || {}).map(([key, count]) =>
                expectText(`.o_cobranza_work_item[data-key='${key}'] .o_cobranza_count`, count, `work ${key}`)
            ),
            {
                content: "Aging buckets in age order",
                trigger: ".o_cobranza_bucket:first-child[data-bucket='not_due']",
            },
            ...(expected.debtors || []).map((name, index) =>
                expectText(`.o_cobranza_debtor:nth-child(${index + 1}) td:first-child`, name, `debtor ${index + 1}`)
            ),
            ...(expected.shot
                ? [
                      {
                          content: "Screenshot of the overview (build/screenshots)",
                          trigger: ".o_cobranza_overview .o_cobranza_work_item",
                          run() {
                              console.log(`cobranza-screenshot:${expected.shot}`);
                          },
                      },
                      {
                          content: "Screenshot taken",
                          trigger: `body[data-cobranza-shot="${expected.shot}"]`,
                      },
                  ]
                : []),
            {
                content: "The largest bucket opens the aging filtered on it",
                trigger: ".o_cobranza_bucket[data-bucket='over_90']",
                run: "click",
            },
            {
                content: "The aging opens, filtered on the bucket's items",
                trigger: ".o_list_renderer .o_data_row",
            },
        ];
    },
});

registry.category("web_tour.tours").add("cobranza_mgmt_worklist_width_tour", {
    url: "/odoo/collections-worklist",
    steps: () => [
        {
            content: "The worklist shows the customer with the long name",
            trigger: '.o_data_row td[name="partner_id"]:contains("Distribuidora Internacional de Ferretería")',
            run() {
                // A collector reads the customer first: the name is whole, not cut to a few letters,
                // and the row's action buttons take less room than it.
                const cell = this.anchor;
                if (cell.scrollWidth > cell.clientWidth + 1) {
                    throw new Error(`customer name cut: ${cell.clientWidth}px shown of ${cell.scrollWidth}px`);
                }
                const row = cell.closest(".o_data_row");
                const buttons = [...row.querySelectorAll("td.o_list_button")]
                    .reduce((width, td) => width + td.getBoundingClientRect().width, 0);
                if (buttons > cell.getBoundingClientRect().width) {
                    throw new Error(`buttons ${buttons}px wider than the customer ${cell.clientWidth}px`);
                }
            },
        },
    ],
});
