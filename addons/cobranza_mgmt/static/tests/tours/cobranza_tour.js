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
        content: "The app opens on the customers list",
        trigger: '.o_breadcrumb:contains("Customers")',
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
