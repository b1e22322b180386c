"""An example vertical app: properties (real estate) that leads are interested in.

Small on purpose: it shows each way an app plugs into the engine (a DocType, a Custom
Field on another app's DocType from fixtures, a workflow, a doc_events hook, a daily
scheduler job, a whitelisted method, a Report, a Workspace and a Role). It is not
installed by ``make run`` nor by the test sites; its tests install and remove it."""
__version__ = "0.1.0"
