/** @odoo-module */

import { registry } from "@web/core/registry";

// The customer's story on /my/collections, opened from the link of a real reminder
// (tests/test_portal_tours.py prepares the data and checks the records afterwards).
// Invoices are told apart by their amounts: 310 and 220 are paid, 450 promised, 370 disputed,
// 680 asked for in installments. Selectors avoid words: the customer reads Spanish.

/** Ask the test for a screenshot of the page as it is, and wait until it is taken. */
function screenshot(name, trigger) {
    return [
        {
            content: `Screenshot ${name}`,
            trigger,
            run() {
                console.log(`cobranza-screenshot:${name}`);
            },
        },
        {
            content: `Screenshot ${name} taken`,
            trigger: `body[data-cobranza-shot="${name}"]`,
        },
    ];
}

function isoDate(days) {
    const day = new Date();
    day.setDate(day.getDate() + days);
    return day.toISOString().slice(0, 10);
}

function setValue(value) {
    return function () {
        this.anchor.value = value;
        this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
    };
}

function choose(form, amount) {
    return {
        content: `Choose the invoice of ${amount} in ${form}`,
        trigger: `${form} .form-check:contains("${amount}") input[type=checkbox]`,
        run: "check",
    };
}

registry.category("web_tour.tours").add("cobranza_mgmt_portal_customer_tour", {
    steps: () => [
        {
            content: "The statement lists the five open invoices",
            trigger: ".o_cobranza_collections table tbody tr:nth-child(5)",
        },
        {
            content: "The statement PDF is offered",
            trigger: "a.o_cobranza_statement[href*='/my/collections/statement']",
        },
        {
            content: "The reminder sent is in the history",
            trigger: ".o_cobranza_reminders tbody tr, .o_cobranza_reminders tr:nth-child(2)",
        },
        ...screenshot("01_statement", ".o_cobranza_pay_form"),
        // pay the invoices of 310 and 220 online: all are chosen, leave out the other three
        ...["450", "370", "680"].map((amount) => ({
            content: `Leave out the invoice of ${amount}`,
            trigger: `.o_cobranza_pay_form .form-check:contains("${amount}") input[type=checkbox]`,
            run: "uncheck",
        })),
        {
            content: "Pay the two invoices",
            trigger: ".o_cobranza_pay_form button[type=submit]",
            run: "click",
        },
        {
            content: "Odoo's payment form, with the demo provider",
            trigger: "input[name=o_payment_radio][data-provider-code=demo]",
            run: "click",
        },
        {
            content: "Test card details",
            trigger: "#customer_input",
            run: "edit 4242 4242 4242 4242",
        },
        ...screenshot("02_payment_form", "button[name=o_payment_submit_button]:enabled"),
        {
            content: "Pay",
            trigger: "button[name=o_payment_submit_button]:enabled",
            run: "click",
        },
        {
            content: "Back on the statement, the payment is acknowledged",
            trigger: ".o_cobranza_message_paid",
        },
        {
            content: "The two paid invoices are gone",
            trigger: ".o_cobranza_pay_form:not(:has(.form-check:contains('310')))",
        },
        ...screenshot("03_paid", ".o_cobranza_message_paid"),
        // promise to pay the invoice of 450 in ten days
        choose(".o_cobranza_promise_form", "450"),
        {
            content: "Promise date",
            trigger: ".o_cobranza_promise_form input[name=promise_date]",
            run: setValue(isoDate(10)),
        },
        {
            content: "Promise amount",
            trigger: ".o_cobranza_promise_form input[name=amount]",
            run: "edit 450",
        },
        {
            content: "Record the promise",
            trigger: ".o_cobranza_promise_form button[type=submit]",
            run: "click",
        },
        {
            content: "The promise is acknowledged",
            trigger: ".o_cobranza_message_promise",
        },
        // dispute the invoice of 370, with the delivery note attached
        choose(".o_cobranza_dispute_form", "370"),
        {
            content: "Dispute comment",
            trigger: ".o_cobranza_dispute_form textarea[name=comment]",
            run: "edit La mercadería llegó incompleta",
        },
        {
            content: "Attach the delivery note",
            trigger: ".o_cobranza_dispute_form input[type=file]",
            run() {
                const files = new DataTransfer();
                files.items.add(new File(["%PDF-1.4 remito 0001-00012345"], "remito.pdf", { type: "application/pdf" }));
                this.anchor.files = files.files;
            },
        },
        ...screenshot("04_dispute_form", ".o_cobranza_dispute_form"),
        {
            content: "Send the dispute",
            trigger: ".o_cobranza_dispute_form button[type=submit]",
            run: "click",
        },
        {
            content: "The dispute is acknowledged",
            trigger: ".o_cobranza_message_dispute",
        },
        {
            content: "The disputed invoice is marked",
            trigger: ".o_cobranza_disputed",
        },
        // ask to pay the invoice of 680 in three monthly installments after a down payment
        choose(".o_cobranza_installments_form", "680"),
        {
            content: "Three installments",
            trigger: ".o_cobranza_installments_form select[name=installments]",
            run: "select 3",
        },
        {
            content: "First installment in twenty days",
            trigger: ".o_cobranza_installments_form input[name=first_due_date]",
            run: setValue(isoDate(20)),
        },
        {
            content: "Down payment",
            trigger: ".o_cobranza_installments_form input[name=down_payment]",
            run: setValue("100"),
        },
        {
            content: "Comment",
            trigger: ".o_cobranza_installments_form textarea[name=comment]",
            run: "edit Cobramos a fin de mes",
        },
        ...screenshot("05_installments_form", ".o_cobranza_installments_form"),
        {
            content: "Ask for installments",
            trigger: ".o_cobranza_installments_form button[type=submit]",
            run: "click",
        },
        {
            content: "The request waits for the collector",
            trigger: ".o_cobranza_request_pending",
        },
        ...screenshot("06_after_requests", ".o_cobranza_message_installments"),
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_collector_approves_tour", {
    steps: () => [
        {
            content: "The request is listed among the agreements to handle",
            trigger: ".o_data_row:has(.badge:contains('Requested')) td[name=name]",
            run: "click",
        },
        {
            content: "The customer's comment is on the request",
            trigger: ".o_field_widget[name=request_note]:contains('fin de mes')",
        },
        ...screenshot("07_collector_request", ".o_form_view button[name=action_propose]"),
        {
            content: "Approve",
            trigger: ".o_form_view button[name=action_propose]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The agreement is proposed to the customer",
            trigger: ".o_statusbar_status .o_arrow_button_current[data-value=proposed]",
        },
    ],
});

registry.category("web_tour.tours").add("cobranza_mgmt_portal_sign_tour", {
    steps: () => [
        {
            content: "The approved schedule",
            trigger: "#o_cobranza_agreement_schedule tbody tr:nth-child(4)",
        },
        {
            content: "Open the signature pad",
            trigger: "#o_cobranza_agreement_accept .o_cobranza_sign_open",
            run: "click",
        },
        {
            content: "The signature pad, with the customer's name",
            trigger: ".modal .o_web_sign_name_and_signature input:value(Comercializadora Río Bravo S.A.)",
        },
        {
            // The pad draws the name asynchronously and draws it again when the name changes: a click in
            // between is refused ("Signature is missing"). Wait until the drawing is there and stable.
            content: "The name is drawn on the signature pad",
            trigger: ".modal canvas.o_web_sign_signature",
            async run() {
                const canvas = this.anchor;
                const blank = document.createElement("canvas");
                let previous = "";
                for (let attempt = 0; attempt < 50; attempt++) {
                    blank.width = canvas.width;
                    blank.height = canvas.height;
                    const drawing = canvas.toDataURL();
                    if (drawing !== blank.toDataURL() && drawing === previous) {
                        return;
                    }
                    previous = drawing;
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
                throw new Error("The signature pad never showed the customer's name.");
            },
        },
        ...screenshot("08_sign", ".modal .o_portal_sign_submit:enabled"),
        {
            content: "Sign",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
        },
        {
            content: "Accepted",
            trigger: "#o_cobranza_agreement .alert-success",
        },
        ...screenshot("09_signed", "#o_cobranza_agreement .alert-success"),
    ],
});
