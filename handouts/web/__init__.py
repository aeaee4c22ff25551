"""The clinician web app (`make_handouts serve`): a form in the browser for one patient,
validated by the `patient` validator, rendered by warm worker processes, nothing stored."""
