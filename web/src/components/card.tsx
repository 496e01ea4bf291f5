/** One figure with its label, as the dashboard and the Cluster page show them in a row of cards. */
export function Card({
  label,
  value,
  className = '',
  testId,
}: {
  label: string;
  value: number | string;
  className?: string;
  testId?: string;
}) {
  return (
    <div class={`card ${className}`} data-testid={testId}>
      <div class="value">{value}</div>
      <div class="label">{label}</div>
    </div>
  );
}
