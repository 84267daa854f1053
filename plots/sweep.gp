# sweep.gp -- placeholder
