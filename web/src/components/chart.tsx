/** One line of a chart: a name, a colour class and its points (oldest first). */
export interface Series {
  readonly name: string;
  readonly className: string;
  readonly points: readonly number[];
}

/** A small SVG line chart, scaled to the largest value shown; no library needed for a few lines. */
export function LineChart({
  series,
  width = 1200,
  height = 160,
  capacity = 60,
}: {
  series: readonly Series[];
  width?: number;
  height?: number;
  capacity?: number;
}) {
  const max = Math.max(1, ...series.flatMap((s) => s.points));
  const x = (i: number) => (i / Math.max(1, capacity - 1)) * width;
  const y = (v: number) => height - (v / max) * (height - 8) - 4;
  return (
    <figure class="chart">
      <div class="axis">{Math.round(max)}/s</div>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        width="100%"
        height={height}
        role="img"
        aria-label="messages per second"
      >
        {[0.25, 0.5, 0.75].map((f) => (
          <line class="grid" x1={0} x2={width} y1={y(max * f)} y2={y(max * f)} />
        ))}
        {series.map((s) => {
          const offset = capacity - s.points.length;
          const d = s.points.map((v, i) => `${i ? 'L' : 'M'}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
          return <path class={`line ${s.className}`} d={d} />;
        })}
      </svg>
      <figcaption>
        {series.map((s) => (
          <span class={`legend ${s.className}`}>{s.name}</span>
        ))}
      </figcaption>
    </figure>
  );
}
