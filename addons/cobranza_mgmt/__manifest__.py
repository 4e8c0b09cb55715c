{
    "name": "Collections Management (Gestión de Cobranza)",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Credit policy, dunning, payment agreements and collection KPIs",
    "author": "cobranza_mgmt developers",
    "website": "https://github.com/cobranza-mgmt/cobranza_mgmt",
    "license": "LGPL-3",
    "depends": ["account", "mail", "portal"],
    "data": [
        "security/cobranza_security.xml",
        "security/ir.model.access.csv",
        "data/cobranza_stage_data.xml",
        "data/ir_cron.xml",
        "wizards/cobranza_hold_wizard_views.xml",
        "views/cobranza_stage_views.xml",
        "views/cobranza_credit_profile_views.xml",
        "views/res_config_settings_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/cobranza_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "cobranza_mgmt/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "_post_init_refresh_profiles",
    "application": True,
}
