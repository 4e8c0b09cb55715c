{
    "name": "Collections Management - Sales",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Block confirming sale orders of customers on credit hold or over their limit",
    "author": "cobranza_mgmt developers",
    "website": "https://github.com/cobranza-mgmt/cobranza_mgmt",
    "license": "LGPL-3",
    "depends": ["sale", "cobranza_mgmt"],
    "auto_install": True,
}
