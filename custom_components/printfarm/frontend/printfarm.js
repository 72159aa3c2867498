// printfarm's dashboard strategy and printer card. Served by the printfarm
// integration and loaded into every Home Assistant frontend; nothing to install.
//
// Both ask Home Assistant for their cards (printfarm/dashboard and
// printfarm/printer_card over the WebSocket), which printfarm builds from
// Home Assistant's own cards: tile, picture-entity, heading and button.

const STRATEGY = "ll-strategy-dashboard-printfarm";
const CARD = "printfarm-printer-card";

class PrintfarmDashboardStrategy extends HTMLElement {
  static async generate(_config, hass) {
    return hass.callWS({ type: "printfarm/dashboard", language: hass.language });
  }
}

class PrintfarmPrinterCard extends HTMLElement {
  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("printfarm-printer-card needs a configuration");
    }
    this._config = config;
    this._card = undefined;
    this._request = undefined;
    if (this._hass) this._build();
  }

  set hass(hass) {
    this._hass = hass;
    if (this._card) {
      this._card.hass = hass;
    } else if (!this._request && this._config) {
      this._build();
    }
  }

  async _build() {
    const message = { type: "printfarm/printer_card", language: this._hass.language };
    if (this._config.device_id) message.device_id = this._config.device_id;
    else if (this._config.printer) message.name = this._config.printer;
    this._request = this._hass.callWS(message);
    let answer;
    try {
      answer = await this._request;
    } catch (err) {
      this._show({ type: "markdown", content: `**printfarm:** ${err.message || err}` });
      return;
    }
    this._show(answer.card);
  }

  async _show(config) {
    const helpers = await window.loadCardHelpers();
    const card = helpers.createCardElement(config);
    card.hass = this._hass;
    this._card = card;
    this.replaceChildren(card);
  }

  getCardSize() {
    return this._card && this._card.getCardSize ? this._card.getCardSize() : 10;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6 };
  }

  static getStubConfig() {
    return {};
  }
}

// This script loads beside the frontend's own code, which may install a scoped
// custom-element registry in place of the browser's after we ran: define the
// elements again in whichever registry is current until the frontend settles.
function defineElements() {
  if (!customElements.get(STRATEGY)) customElements.define(STRATEGY, PrintfarmDashboardStrategy);
  if (!customElements.get(CARD)) customElements.define(CARD, PrintfarmPrinterCard);
}
defineElements();
const started = Date.now();
const keepDefined = setInterval(() => {
  defineElements();
  if (Date.now() - started > 120_000) clearInterval(keepDefined);
}, 100);

window.customStrategies = window.customStrategies || [];
if (!window.customStrategies.some((s) => s.type === "printfarm")) {
  window.customStrategies.push({
    type: "printfarm",
    strategyType: "dashboard",
    name: "Print farm",
    description: "Every printer of the farm: counts, cameras, progress, temperatures and controls.",
    documentationURL: "https://github.com/printfarm/printfarm#the-farm-dashboard",
  });
}

window.customCards = window.customCards || [];
if (!window.customCards.some((c) => c.type === CARD)) {
  window.customCards.push({
    type: CARD,
    name: "Printer (printfarm)",
    description: "One printer: camera, status, progress, time left, temperatures and controls.",
    preview: false,
    documentationURL: "https://github.com/printfarm/printfarm#the-farm-dashboard",
  });
}
