-- A restored or duplicated database (Odoo's neutralization) must not text real customers.
UPDATE cobranza_sms_gateway SET active = false;
