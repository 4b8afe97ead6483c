"""Shared library of the course: data, plotting, gradient checking, visible checks.

The notebooks import from here instead of redefining helpers. Nothing in this
package is the solution of a graded exercise.
"""
