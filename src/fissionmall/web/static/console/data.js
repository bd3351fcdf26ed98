// 数据中心: draws the page's charts with the vendored ECharts from the JSON the server put in #data-charts.
const WORST = "#c0392b";
const MAIN = "#2f6fed";

function draw(id, option) {
  const el = document.getElementById(id);
  if (!el || !window.echarts) return;
  const chart = window.echarts.init(el, null, { renderer: "canvas" });
  chart.setOption(option);
  el.dataset.drawn = "true";
  window.addEventListener("resize", () => chart.resize());
}

function start() {
  const src = document.getElementById("data-charts");
  if (!src) return;
  const data = JSON.parse(src.textContent);
  const money = { type: "value", name: "元" };
  draw("chart-daily", {
    tooltip: { trigger: "axis" },
    legend: { data: ["净成交", "订单"] },
    xAxis: { type: "category", data: data.daily.days },
    yAxis: [money, { type: "value", name: "笔" }],
    series: [
      { name: "净成交", type: "bar", data: data.daily.gmv, itemStyle: { color: MAIN } },
      { name: "订单", type: "line", yAxisIndex: 1, data: data.daily.orders },
    ],
  });
  draw("chart-tools", {
    tooltip: { trigger: "axis" },
    legend: { data: ["净成交", "营销成本"] },
    xAxis: { type: "category", data: data.tools.labels },
    yAxis: money,
    series: [
      { name: "净成交", type: "bar", data: data.tools.gmv, itemStyle: { color: MAIN } },
      { name: "营销成本", type: "bar", data: data.tools.cost },
    ],
  });
  data.funnels.forEach((f, i) => {
    draw(`chart-funnel-${i}`, {
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: f.steps },
      yAxis: { type: "value", name: "人" },
      series: [
        {
          type: "bar",
          data: f.people.map((v, j) => ({ value: v, itemStyle: { color: j === f.worst ? WORST : MAIN } })),
        },
      ],
    });
  });
}

if (window.echarts) start();
else window.addEventListener("load", start);
