"""Physics: constants, kinematics, models, matrix elements and cross sections."""
