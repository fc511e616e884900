"""Model inspection: what a trained model sees and responds (panels, GMM diagnostics)."""
