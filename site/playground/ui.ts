export function mountPlayground(root: HTMLElement): () => void {
  root.textContent = 'playground';
  return () => undefined;
}
