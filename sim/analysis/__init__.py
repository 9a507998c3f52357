"""The analysis layer: what a study kind adds beyond running it.

:mod:`.sensitivity` (Morris and Sobol with SALib) and :mod:`.calibration`
(simulated method of moments against observed attendance).
"""
