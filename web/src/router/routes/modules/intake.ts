import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/intake/hotline',
    name: 'hotline',
    component: () => import('@/views/intake/hotline/list.vue'),
    meta: { title: 'menu.hotline', icon: 'upload', order: 2, authority: ['hotline:import'], levels: ['city', 'district'], menu: true },
  },
]
export default routes
