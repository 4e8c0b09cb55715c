/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";
import { formatDate, deserializeDate } from "@web/core/l10n/dates";

/**
 * Collections overview: the app's first screen. Everything shown comes from one call,
 * cobranza.overview.get_overview(), which applies the user's scope (a manager the company,
 * a collector their portfolio); every figure is a click into the filtered list behind it.
 */
export class CobranzaOverview extends Component {
    static template = "cobranza_mgmt.Overview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null });
        onWillStart(async () => {
            this.state.data = await this.orm.call("cobranza.overview", "get_overview", []);
        });
    }

    get data() {
        return this.state.data;
    }

    date(value) {
        return value ? formatDate(deserializeDate(value)) : "";
    }

    kpi(value, key) {
        if (value === null || value === undefined || value === false) {
            return "—";
        }
        return key === "delinquent_accounts" ? formatFloat(value, { digits: [false, 0] }) : formatFloat(value, { digits: [false, 1] });
    }

    money(value) {
        const { symbol, position, digits } = this.data.currency;
        const number = formatFloat(value || 0, { digits: [false, digits] });
        return position === "before" ? `${symbol}\u00a0${number}` : `${number}\u00a0${symbol}`;
    }

    /** "better", "worse" or "" for the change from the previous period. */
    change(card) {
        if (card.value === null || card.previous === null || card.value === card.previous) {
            return "";
        }
        const lower = card.value < card.previous;
        return lower === card.lower_is_better ? "better" : "worse";
    }

    /** SVG polyline points of a card's 12-month trend (months without a figure are skipped). */
    trendPoints(card) {
        const values = card.trend.map((point) => point.value).filter((value) => value !== null && value !== false);
        if (values.length < 2) {
            return "";
        }
        const min = Math.min(...values);
        const max = Math.max(...values);
        const span = max - min || 1;
        const step = 116 / (values.length - 1);
        return values.map((value, index) => `${2 + index * step},${26 - ((value - min) / span) * 22}`).join(" ");
    }

    trendTitle(card) {
        return card.trend.map((point) => `${this.date(point.month)}: ${this.kpi(point.value, card.key)}`).join("\n");
    }

    barWidth(amount) {
        const max = Math.max(...this.data.aging.map((bucket) => bucket.amount), 0);
        return max ? `${Math.max((amount / max) * 100, amount ? 1 : 0)}%` : "0%";
    }

    openKpis() {
        this.action.doAction("cobranza_mgmt.cobranza_kpi_snapshot_action");
    }

    openBucket(bucket) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Aging: %s", bucket.label),
            res_model: "cobranza.aging.report",
            domain: [["bucket", "=", bucket.bucket]],
            views: [[false, "list"], [false, "pivot"], [false, "graph"]],
        });
    }

    openDebtor(debtor) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "cobranza.credit.profile",
            res_id: debtor.profile_id,
            views: [[false, "form"]],
        });
    }

    openWork(item) {
        this.action.doAction(item.action);
    }
}

registry.category("actions").add("cobranza_overview", CobranzaOverview);
