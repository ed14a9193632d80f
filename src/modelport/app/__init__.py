"""The composition root of the running server: what joins serving to monitoring and reports in one process.

Serving never imports monitoring or reports; the server learns of the dashboard and the drift gauges
through its extension hook (:mod:`modelport.serving.extensions`), which names
:func:`modelport.app.monitor.extension`.
"""
