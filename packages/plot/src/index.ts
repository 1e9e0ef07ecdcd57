// @difflens/plot: Figures (heatmap, lines with bands, scatter, bars, histograms) to SVG, PNG and PDF.
export {};
