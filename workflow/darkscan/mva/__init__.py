"""MVA selection: classifiers per fit-variable range (training), their last cut (apply), Punzi's
figure of merit (punzi), and the data/MC efficiency in control samples (control)."""
