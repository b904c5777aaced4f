"""Conformance (流程一致性): does each record's history follow the BPMN it ran on?

rules   what a version allows, found by running its diagram in the engine
replay  one record's events and stored state checked against those rules
run     every record of a school or of the deployment, in id ranges (`gradflow audit conform`)
"""
