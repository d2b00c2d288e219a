// A small React wrapper around Apache ECharts (echarts.init on a div): the option is set
// whenever it changes (not merged: the option builders in stats.ts describe the whole
// chart), the chart follows its box's size, and it is disposed on unmount. Only the parts
// the overview uses are registered (echarts/core), which keeps the lazily loaded overview
// chunk small; this module is never imported by the blotter.

import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsOption } from 'echarts';

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

interface Props {
  option: EChartsOption;
  /** what the chart shows, for the figure's caption and data-testid */
  name: string;
  height?: number;
}

export function EChart({ option, name, height = 190 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const c = echarts.init(el, null, { renderer: 'canvas' });
    chart.current = c;
    const resize = new ResizeObserver(() => c.resize());
    resize.observe(el);
    return () => {
      resize.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true, lazyUpdate: true });
  }, [option]);

  return <div ref={box} className="echart" style={{ height }} data-testid="chart" data-chart={name} />;
}
