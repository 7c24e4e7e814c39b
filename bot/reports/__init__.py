"""HR reports: figures per period and scope, as a PDF and an .xlsx."""
