# Channel dark_higgsstrahlung (Belle II, e+e- -> A' h', A' -> mu+ mu-, h' invisible).
# The generic stages build it from config/channels/dark_higgsstrahlung.yaml; its 2D scan in
# (M(mu mu), M_recoil) uses the fit method ellipse_counting (darkscan.stats.methods.ellipse_counting), whose
# limits.csv carries mass = m_A' and mass2 = m_h'; plot_limits draws maps for two-mass scans.


rule dark_higgsstrahlung:
    input:
        channel_outputs("dark_higgsstrahlung") if "dark_higgsstrahlung" in CHANNELS else [],
    localrule: True
